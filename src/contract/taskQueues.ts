/** BullMQ queue names; the key prefix (QUEUE_PREFIX) separates deployments sharing one Redis. */
export const MAIL_QUEUE = 'mail';
export const WEBHOOK_QUEUE = 'webhooks';
