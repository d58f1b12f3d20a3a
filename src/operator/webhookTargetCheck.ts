import { WebhookTargetRefusedError, type WebhookTargetPolicy } from '../webhooks/webhookTarget.js';
import { AppError } from '../http/errors.js';

/** A webhook URL the policy refuses becomes a 400 naming the field, like any schema error. */
export async function requireAllowedWebhookUrl(policy: WebhookTargetPolicy, url: string | undefined): Promise<void> {
  if (url === undefined) return;
  try {
    await policy.checkUrl(url);
  } catch (err) {
    if (!(err instanceof WebhookTargetRefusedError)) throw err;
    const message = `must reach a public address: ${err.message}`;
    throw new AppError('validation', `webhookUrl ${message}`, { errors: [{ path: 'webhookUrl', message }] });
  }
}
