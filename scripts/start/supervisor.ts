import { describeExit, DUPLICATE_SIGNAL_WINDOW_MS, type ManagedProcess } from './processes.js';

export interface SupervisorOutput {
  info: (message: string) => void;
  error: (message: string) => void;
}

interface Entry {
  proc: ManagedProcess;
  graceMs: number | undefined;
}

/**
 * Owns every child: stops them in reverse start order on Ctrl-C / SIGTERM, and
 * takes everything down when a long-running one dies on its own, so a half-up
 * system never lingers looking healthy.
 */
export class Supervisor {
  private readonly entries: Entry[] = [];
  private readonly abortController = new AbortController();
  private shutdownStarted = false;

  constructor(private readonly out: SupervisorOutput) {}

  /** Aborted when shutdown begins; startup waits use it to stop early. */
  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  get shuttingDown(): boolean {
    return this.shutdownStarted;
  }

  installSignalHandlers(): void {
    let firstSignalAt = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (this.shutdownStarted) {
        // Only a later signal is a person asking to stop waiting for a slow child.
        if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_WINDOW_MS) return;
        this.out.info(`${sig} again: killing everything now`);
        for (const { proc } of this.entries) proc.signal('SIGKILL');
        process.exit(1);
      }
      firstSignalAt = Date.now();
      this.out.info(`${sig} received: stopping (press Ctrl-C again to kill everything at once)`);
      void this.shutdown(0);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
  }

  /**
   * Tracks a child. `longRunning` children are expected to live until shutdown;
   * one exiting on its own stops the rest and the orchestrator exits 1.
   */
  add(proc: ManagedProcess, options: { longRunning: boolean; graceMs?: number }): void {
    this.entries.push({ proc, graceMs: options.graceMs });
    if (!options.longRunning) return;
    void proc.exited.then((exit) => {
      if (this.shutdownStarted || proc.stopping) return;
      this.out.error(`${proc.name} ${describeExit(exit)} unexpectedly; stopping the rest`);
      void this.shutdown(1);
    });
  }

  /** Stops every child, newest first, then exits the process with `code`. */
  async shutdown(code: number, reason?: string): Promise<never> {
    if (this.shutdownStarted) return new Promise<never>(() => undefined);
    this.shutdownStarted = true;
    if (reason) this.out.error(reason);
    this.abortController.abort(new Error('shutting down'));
    for (const { proc, graceMs } of [...this.entries].reverse()) {
      if (!proc.running) continue;
      this.out.info(`stopping ${proc.name}…`);
      const exit = await proc.stop(graceMs);
      if (exit.signal === 'SIGKILL') this.out.info(`${proc.name} did not stop in time and was killed`);
    }
    this.out.info(code === 0 ? 'all stopped' : 'all stopped after a failure');
    process.exit(code);
  }
}
