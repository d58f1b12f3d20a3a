/**
 * Undo steps registered as resources are created, run newest first. Every step
 * runs even when an earlier one fails, so a half-started benchmark still leaves
 * no process, database or Redis key behind.
 */
export class Cleanup {
  readonly #steps: { what: string; undo: () => Promise<void> | void }[] = [];
  #ran: Promise<string[]> | undefined;

  defer(what: string, undo: () => Promise<void> | void): void {
    this.#steps.push({ what, undo });
  }

  /** Runs every step once; returns the failures, one line each. */
  run(): Promise<string[]> {
    this.#ran ??= (async () => {
      const failures: string[] = [];
      for (const { what, undo } of this.#steps.splice(0).reverse()) {
        try {
          await undo();
        } catch (err) {
          failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return failures;
    })();
    return this.#ran;
  }
}

/**
 * Runs a benchmark's `main` with a Cleanup, then the cleanup, also on Ctrl-C;
 * exits 1 when main threw or a cleanup step failed, 130 on a signal.
 */
export async function runBench(main: (cleanup: Cleanup) => Promise<void>): Promise<void> {
  const cleanup = new Cleanup();
  const finish = async (code: number) => {
    const failures = await cleanup.run();
    for (const failure of failures) console.error(`cleanup failed: ${failure}`);
    process.exit(failures.length > 0 && code === 0 ? 1 : code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void finish(130);
    });
  }
  try {
    await main(cleanup);
    await finish(0);
  } catch (err) {
    console.error(err);
    await finish(1);
  }
}
