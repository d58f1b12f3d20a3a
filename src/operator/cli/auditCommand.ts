import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createChainVerifier } from '../../audit/auditChain.js';

// audit verify: checks an exported audit chain on this machine, with no API
// and no database, so an auditor can run it on a copy handed to them.
// audit export: the operator's GET /api/v1/admin/audit, line by line to stdout.

/** Reads the file a line at a time (any size) and stops at the first broken link. 0 intact, 1 broken. */
export async function verifyAuditFile(file: string, out: (line: string) => void): Promise<number> {
  const verifier = createChainVerifier();
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) if (!verifier.push(line)) break;
  } finally {
    lines.close();
    input.destroy();
  }
  const result = verifier.result();
  if (!result.ok) {
    const { line, seq, id, message } = result.broken;
    const where = seq === null ? `line ${line}` : `line ${line} (seq ${seq}${id ? `, event id ${id}` : ''})`;
    out(`BROKEN at ${where}: ${message}`);
    return 1;
  }
  const { chain, events, lastSeq, lastHash } = result.summary;
  out(`intact: chain ${chain ?? '?'}, ${events} event${events === 1 ? '' : 's'} (seq 1–${lastSeq}), head hash ${lastHash}`);
  return 0;
}

/** Writes a streamed NDJSON body to `out` line by line, as it arrives. */
export async function writeLines(body: ReadableStream<Uint8Array>, out: (line: string) => void): Promise<void> {
  let pending = '';
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) out(line);
  }
  if (pending) out(pending);
}
