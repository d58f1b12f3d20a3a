import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const INVITATION_LINK = /https?:\/\/[^\s"<>]+\/invitations\/[A-Za-z0-9_-]+/;

/**
 * A real SMTP server standing in for the customers' mailboxes. Unlike the test
 * catcher it does not poll: a waiter for an address is woken the moment that
 * address's invitation arrives, so the benchmark adds no polling delay to the
 * invitation leg. Only invitations are read (for their link); the rest is counted.
 */
export async function startSmtpInbox() {
  const links = new Map<string, string>();
  const waiters = new Map<string, (link: string) => void>();
  let received = 0;

  function deliver(address: string, link: string): void {
    const waiter = waiters.get(address);
    if (waiter) {
      waiters.delete(address);
      waiter(link);
    } else {
      links.set(address, link);
    }
  }

  // Quoted-printable bodies only break lines (token characters need no escaping),
  // so undoing soft breaks finds the link without parsing; anything else is parsed.
  async function invitationLinkIn(raw: Buffer): Promise<string | undefined> {
    const quick = INVITATION_LINK.exec(raw.toString('utf8').replace(/=\r?\n/g, ''))?.[0];
    if (quick) return quick;
    const parsed = await simpleParser(raw);
    return INVITATION_LINK.exec(`${parsed.text ?? ''} ${typeof parsed.html === 'string' ? parsed.html : ''}`)?.[0];
  }

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    disableReverseLookup: true,
    closeTimeout: 200,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        received += 1;
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        const wanted = recipients.filter((address) => address.startsWith('admin@'));
        if (wanted.length === 0) return callback();
        invitationLinkIn(Buffer.concat(chunks))
          .then((link) => {
            if (link) for (const address of wanted) deliver(address, link);
            callback();
          })
          .catch((err: Error) => callback(err));
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
  });

  return {
    url: `smtp://127.0.0.1:${port}`,
    /** Messages received so far, of any kind. */
    get received() {
      return received;
    },
    /** The invitation link mailed to `address` (a customer admin, `admin@…`). */
    invitationLink(address: string, timeoutMs: number): Promise<string> {
      const arrived = links.get(address);
      if (arrived) {
        links.delete(address);
        return Promise.resolve(arrived);
      }
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(address);
          reject(new Error(`no invitation for ${address} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(address, (link) => {
          clearTimeout(timer);
          resolve(link);
        });
      });
    },
    close(): Promise<void> {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type SmtpInbox = Awaited<ReturnType<typeof startSmtpInbox>>;
