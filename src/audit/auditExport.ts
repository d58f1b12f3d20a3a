import { once } from 'node:events';
import type { Response } from 'express';
import type { Database } from '../infra/database.js';
import { exportedEvent, GENESIS_HASH, type ExportedHead, type JsonValue } from './auditChain.js';

// An audit chain as NDJSON: one event per line in chain order, with its seq,
// previous hash and hash, then one last line with the chain's head. Read from
// the database a page at a time and written as the client takes it, so a long
// chain never sits in memory.
//
// The export covers the chain as it stood when it began: the head is read
// first and only events up to its seq are sent (a writer appending meanwhile
// changes nothing in this file), so the head line can vouch for the end.

/** Who downloads: a customer's copy withholds data meant for operators only (a provider's raw error text), as its digest. */
export type AuditAudience = 'operator' | 'customer';

const OPERATOR_ONLY_DATA = new Set(['trial.providerError']);

/** `pageSize`: events read per query (the memory an export holds at once). */
export function createAuditExport(db: Database, pageSize = 500) {
  async function* lines(chain: string, audience: AuditAudience): AsyncGenerator<string> {
    const head = await db.auditChainHead.findUnique({ where: { chain } });
    const headSeq = head?.seq ?? 0n;
    let after = 0n;
    while (after < headSeq) {
      const rows = await db.auditEvent.findMany({
        where: { chain, seq: { gt: after, lte: headSeq } },
        orderBy: { seq: 'asc' },
        take: pageSize,
      });
      if (rows.length === 0) break;
      for (const row of rows) {
        // chain, seq and the hashes are never null on rows of a chain (the where clause picks by chain).
        const link = { ...row, chain, seq: row.seq ?? 0n, prevHash: row.prevHash ?? '', hash: row.hash ?? '', data: row.data as JsonValue | null };
        yield JSON.stringify(exportedEvent(link, audience === 'customer' && OPERATOR_ONLY_DATA.has(row.action)));
      }
      after = rows.at(-1)?.seq ?? headSeq;
    }
    const last: ExportedHead = { head: { chain, seq: headSeq.toString(), hash: head?.hash ?? GENESIS_HASH } };
    yield JSON.stringify(last);
  }

  return { lines };
}

export type AuditExport = ReturnType<typeof createAuditExport>;

/** Waits for the client to take what was written (or to go away), leaving no listener behind. */
async function drainedOrClosed(res: Response): Promise<void> {
  const waiting = new AbortController();
  try {
    await Promise.race([once(res, 'drain', { signal: waiting.signal }), once(res, 'close', { signal: waiting.signal })]);
  } finally {
    waiting.abort();
  }
}

/**
 * Streams the lines as a download, pausing while the client is slow and
 * stopping when it goes away. A failure once lines are out reaches the error
 * handler, which can only cut the connection: the file then ends without its
 * head line, and the verifier refuses it.
 */
export async function sendNdjson(res: Response, fileName: string, lines: AsyncIterable<string>): Promise<void> {
  const iterator = lines[Symbol.asyncIterator]();
  try {
    // The first line (a database read) comes before the headers, so an early failure is still an ordinary error response.
    let next = await iterator.next();
    res.status(200);
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${fileName}"`);
    res.setHeader('Cache-Control', 'no-store');
    while (!next.done) {
      if (res.destroyed) return;
      if (!res.write(`${next.value}\n`)) await drainedOrClosed(res);
      next = await iterator.next();
    }
    res.end();
  } finally {
    await iterator.return?.();
  }
}
