import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './waitFor.js';

export interface CaughtMail {
  to: string[];
  parsed: ParsedMail;
}

export interface SmtpCatcherOptions {
  /** Makes the server answer 550 for chosen addresses (a permanent failure). */
  rejectRecipient?: (address: string) => boolean;
  /** A fixed port; by default a random free one. */
  port?: number;
}

/**
 * A real SMTP server on a local port that keeps what it receives. `stop()`
 * and `start()` take it down and bring it back on the same port (an SMTP
 * outage), keeping the messages caught so far.
 */
export async function startSmtpCatcher(options: SmtpCatcherOptions = {}) {
  const messages: CaughtMail[] = [];
  /** Every RCPT TO answered with 550, in order. */
  const rejected: string[] = [];
  // A sender killed mid-session (the chaos suite's kill -9) resets its connection, which smtp-server
  // reports as an 'error' event: the sender's failure, not the catcher's, so it must not crash the test.
  const create = () => withConnectionErrorsIgnored(
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // The reverse DNS lookup of 127.0.0.1 stalls each connection for seconds where no resolver answers.
      disableReverseLookup: true,
      // On stop, idle pooled client connections get 421 quickly instead of holding the port for 30 s.
      closeTimeout: 200,
      onRcptTo(address, _session, callback) {
        if (options.rejectRecipient?.(address.address)) {
          rejected.push(address.address);
          const err = Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 });
          return callback(err);
        }
        callback();
      },
      onData(stream, session, callback) {
        simpleParser(stream)
          .then((parsed) => {
            messages.push({ to: session.envelope.rcptTo.map((r) => r.address), parsed });
            callback();
          })
          .catch((err: Error) => callback(err));
      },
    }),
  );
  const listen = (server: SMTPServer, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
    });

  let server: SMTPServer | undefined = create();
  const port = await listen(server, options.port ?? 0);

  async function stop(): Promise<void> {
    const current = server;
    server = undefined;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  }

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    rejected,
    /** Waits for a message matching the predicate and returns it. */
    waitForMail(predicate: (mail: CaughtMail) => boolean, what = 'an email') {
      return waitFor(() => messages.find(predicate), { what, timeoutMs: 30_000 });
    },
    /** Stops listening: senders get "connection refused" until `start()`. */
    stop,
    /** Listens again on the same port. */
    async start(): Promise<void> {
      if (server) return;
      const next = create();
      await listen(next, port);
      server = next;
    },
    close: stop,
  };
}

function withConnectionErrorsIgnored(server: SMTPServer): SMTPServer {
  server.on('error', () => undefined);
  return server;
}

export type SmtpCatcher = Awaited<ReturnType<typeof startSmtpCatcher>>;
