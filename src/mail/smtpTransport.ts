import nodemailer, { type Transporter } from 'nodemailer';

// One pooled SMTP transport per process: connections are reused across messages.
export function createSmtpTransport(smtpUrl: string): Transporter {
  const url = new URL(smtpUrl);
  if (!url.searchParams.has('pool')) url.searchParams.set('pool', 'true');
  return nodemailer.createTransport(url.toString());
}

/** SMTP 5xx replies are permanent: retrying a refused mailbox only delays telling the partner. */
export function isPermanentSmtpFailure(err: unknown): boolean {
  const code = (err as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}
