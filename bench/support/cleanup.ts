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
