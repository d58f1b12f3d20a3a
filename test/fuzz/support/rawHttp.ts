import { Agent, request } from 'node:http';

// A deliberately low-level HTTP client for the fuzz suite: any method the
// server's parser knows, a path sent exactly as given (no normalisation, no
// re-encoding), repeated headers, and a body of raw bytes with whatever
// Content-Type / Content-Encoding / Transfer-Encoding the case asks for.
// fetch() would "fix" most of what we want to send.

export interface RawRequest {
  method: string;
  /** Sent as is: it must already be percent-encoded where needed. */
  path: string;
  /** Repeated names become repeated header lines. */
  headers: [string, string][];
  body?: Buffer;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  contentType: string;
  body: Buffer;
  text: string;
  ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** Bytes read from a response at most; a fuzz case never needs more. */
const MAX_BODY = 2 * 1024 * 1024;

export function send(baseUrl: string, req: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of req.headers) {
    const key = name.toLowerCase();
    const existing = headers[key];
    headers[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  // Node frames a GET/DELETE/OPTIONS body only when told its length; unframed bytes would be read as the next request.
  if (req.body && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) headers['content-length'] = String(req.body.length);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY) chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            contentType: String(res.headers['content-type'] ?? ''),
            body,
            text: body.toString('utf8'),
            ms: performance.now() - started,
          });
        });
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

/** One line describing a request, for failure messages (bodies cut short, binary shown as base64). */
export function describeRequest(req: RawRequest): string {
  const body = req.body ?? Buffer.alloc(0);
  const printable = [...body.subarray(0, 600)].every((b) => b === 9 || b === 10 || b === 13 || (b >= 0x20 && b <= 0x7e));
  const preview = printable ? JSON.stringify(body.subarray(0, 600).toString('latin1')) : `base64:${body.subarray(0, 450).toString('base64')}`;
  const headers = req.headers.map(([k, v]) => `${k}: ${v.length > 120 ? `${v.slice(0, 120)}…(${v.length})` : v}`).join(' | ');
  const path = req.path.length > 300 ? `${req.path.slice(0, 300)}…(${req.path.length})` : req.path;
  return `${req.method} ${path}\n  headers: ${headers}\n  body (${body.length} bytes): ${preview}${body.length > 600 ? '…' : ''}`;
}

export function describeResponse(res: RawResponse): string {
  return `${res.status} ${res.contentType} (${res.body.length} bytes, ${Math.round(res.ms)} ms): ${JSON.stringify(res.text.slice(0, 800))}`;
}

export function closeAgent(): void {
  agent.destroy();
}
