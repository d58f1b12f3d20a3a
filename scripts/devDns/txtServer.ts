import type { Socket, Server as TcpSocketServer } from 'node:net';
import type { Socket as UdpSocket } from 'node:dgram';
import { createTCPServer, createUDPServer, Packet, type DnsHandler } from 'dns2';

// A DNS server that knows only TXT records, for the tests and the local demo:
// the API looks records up through real DNS (c-ares), so what it talks to
// must be a real server on a real socket, not a stubbed resolver.

export interface TxtServerOptions {
  /** Default 127.0.0.1; an IPv6 address binds an IPv6 socket. */
  host?: string;
  /** 0 (the default) takes any free port; the bound one is reported back. */
  port?: number;
  /** TXT values for a name (lower-cased, no trailing dot); none means NXDOMAIN. Throwing answers SERVFAIL. */
  records: (name: string) => string[] | Promise<string[]>;
}

export interface TxtServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** DNS names compare case-insensitively and may be written fully qualified. */
export function normalizeDnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

const MAX_CHARACTER_STRING_BYTES = 255;

/**
 * One TXT <character-string> holds at most 255 bytes and dns2 writes its length
 * into one octet unchecked, so longer values must be split. The cut falls
 * between characters so each chunk is valid UTF-8 for clients that decode chunks one by one.
 * Buffers, not strings: dns2 drops falsy chunks, and an empty value is still a value.
 */
export function txtChunks(value: string): Buffer[] {
  const chunks: Buffer[] = [];
  let current = '';
  let currentBytes = 0;
  for (const character of value) {
    const bytes = Buffer.byteLength(character);
    if (currentBytes + bytes > MAX_CHARACTER_STRING_BYTES) {
      chunks.push(Buffer.from(current));
      current = '';
      currentBytes = 0;
    }
    current += character;
    currentBytes += bytes;
  }
  chunks.push(Buffer.from(current));
  return chunks;
}

async function answer(request: Packet, records: TxtServerOptions['records']): Promise<Packet> {
  const [question] = request.questions;
  if (!question) return Packet.createErrorResponseFromRequest(request, Packet.RCODE.FORMERR);
  const response = Packet.createResponseFromRequest(request);
  response.header.aa = 1;
  if (question.type !== Packet.TYPE.TXT) return response;
  let values: string[];
  try {
    values = await records(normalizeDnsName(question.name));
  } catch {
    return Packet.createErrorResponseFromRequest(request, Packet.RCODE.SERVFAIL);
  }
  if (values.length === 0) {
    response.header.rcode = Packet.RCODE.NXDOMAIN;
    return response;
  }
  for (const value of values) {
    // TTL 0: a record someone just published or removed counts at once, even through a caching resolver.
    response.answers.push(
      Packet.createResourceFromQuestion(question, {
        type: Packet.TYPE.TXT,
        class: Packet.CLASS.IN,
        ttl: 0,
        // dns2's types say string | string[] | Buffer; its TXT encoder (3.1.1) takes a list of Buffers too.
        data: txtChunks(value) as unknown as string[],
      }),
    );
  }
  return response;
}

function bindUdp(socket: UdpSocket, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

function listenTcp(server: TcpSocketServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const closeUdp = (socket: UdpSocket) => new Promise<void>((resolve) => socket.close(() => resolve()));
// close() alone would wait for resolvers' idle TCP connections, which dns2 keeps open for 10 s.
function closeTcp(server: TcpSocketServer, connections: Set<Socket>): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const connection of connections) connection.destroy();
  });
}

function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'EADDRINUSE';
}

/**
 * UDP and TCP on the same port: a reply over 512 bytes (long or many values;
 * c-ares asks without EDNS) goes out truncated over UDP, and the resolver asks
 * again over TCP on the port it already uses.
 */
export async function startTxtServer(options: TxtServerOptions): Promise<TxtServer> {
  const host = options.host ?? '127.0.0.1';
  const handle: DnsHandler = (request, send) => {
    // A reply that cannot be sent is the client's loss (it retries); the server keeps serving.
    void answer(request, options.records)
      .then(send)
      .catch(() => undefined);
  };
  // With port 0 the free UDP port chosen may be taken for TCP; a few fresh picks settle it.
  const attempts = options.port ? 1 : 5;
  for (let attempt = 1; ; attempt++) {
    const udp = createUDPServer({ type: host.includes(':') ? 'udp6' : 'udp4' });
    udp.on('request', handle);
    const port = await bindUdp(udp, options.port ?? 0, host);
    const tcp = createTCPServer(handle);
    try {
      await listenTcp(tcp, port, host);
    } catch (error) {
      await closeUdp(udp);
      if (attempt < attempts && isAddressInUse(error)) continue;
      throw error;
    }
    // A TCP client that goes away mid-query is its own problem, not the server's.
    tcp.on('requestError', () => undefined);
    const connections = new Set<Socket>();
    tcp.on('connection', (connection: Socket) => {
      connections.add(connection);
      connection.once('close', () => connections.delete(connection));
    });
    let closed: Promise<void> | undefined;
    return {
      host,
      port,
      close: () => (closed ??= Promise.all([closeUdp(udp), closeTcp(tcp, connections)]).then(() => undefined)),
    };
  }
}
