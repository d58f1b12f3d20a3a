import type { Server, ServerResponse } from 'node:http';

// A deploy stops the API with SIGTERM while requests are being answered.
// Dropping them would leave a partner unsure whether its POST happened; so the
// server stops accepting connections, answers what it has already accepted,
// ends keep-alive connections as they fall idle, and only after a bounded
// grace period cuts whatever is still open.

export interface Drainer {
  /** Resolves when every connection has ended; `cut` is true when the grace period ran out first. */
  drain(graceMs: number): Promise<{ cut: boolean; inFlight: number }>;
}

/** Call right after listen(): it watches responses so a drain can end their keep-alive. */
export function drainable(server: Server): Drainer {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  // After its answer, a connection must close instead of waiting for another request.
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  server.on('request', (_req, res: ServerResponse) => {
    inFlight.add(res);
    if (draining) closeAfter(res);
    res.once('close', () => {
      inFlight.delete(res);
      // An answer that went out with keep-alive before the drain began leaves an idle connection behind.
      if (draining) server.closeIdleConnections();
    });
  });
  return {
    drain(graceMs) {
      draining = true;
      const atStart = inFlight.size;
      return new Promise((resolve) => {
        let cut = false;
        const timer = setTimeout(() => {
          cut = true;
          server.closeAllConnections();
        }, graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve({ cut, inFlight: atStart });
        });
        for (const res of inFlight) closeAfter(res);
        server.closeIdleConnections();
      });
    },
  };
}
