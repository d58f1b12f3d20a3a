import { pino, type Logger } from 'pino';

export type { Logger };

// One logger per process; pretty only for a person at a terminal in development.
export function createLogger(options: { level: string; pretty: boolean; name?: string }): Logger {
  return pino({
    name: options.name ?? 'partnerflow',
    level: options.level,
    base: undefined,
    redact: ['apiKey', 'token', 'authorization', '*.apiKey', '*.token', 'req.headers.authorization', 'req.headers.cookie'],
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  });
}
