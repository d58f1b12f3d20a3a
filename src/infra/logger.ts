import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import { redactingSerializers, redactPaths, scrubText } from './logRedaction.js';

export type { Logger };

function prettyPrinterInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

// One logger per process; pretty only for a person at a terminal in development.
// `destination` lets a test read exactly what would have been written.
export function createLogger(options: { level: string; pretty: boolean; name?: string; destination?: DestinationStream }): Logger {
  // pino-pretty is a devDependency: a pruned production install logs JSON even at a terminal.
  const pretty = options.pretty && options.destination === undefined && prettyPrinterInstalled();
  return pino(
    {
      name: options.name ?? 'partnerflow',
      level: options.level,
      base: undefined,
      redact: redactPaths,
      serializers: redactingSerializers,
      hooks: {
        // A message string may quote a path or URL too.
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as Parameters<typeof method>);
        },
      },
      ...(pretty ? { transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
    },
    options.destination,
  );
}
