import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { LineSink } from './output.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. command not found). */
  error?: Error;
}

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  onLine: LineSink;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  graceMs?: number;
}

export function describeExit(exit: ExitInfo): string {
  if (exit.error) return `could not start (${exit.error.message})`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? 'unknown'}`;
}

/**
 * One Ctrl-C under `npm run …` reaches a script twice within milliseconds: from
 * the terminal, and again relayed by npm and tsx. Signals this close together
 * count as one.
 */
export const DUPLICATE_SIGNAL_WINDOW_MS = 1_500;

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

// Children run in their own process groups (see spawn below), so nothing
// reaps them if this process dies from an uncaught error. The 'exit' hook is
// synchronous, which is exactly what is needed: SIGKILL whatever is left.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const proc of live) proc.signal('SIGKILL');
  });
}

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  readonly startedAt = Date.now();
  private readonly graceMs: number;
  private exitInfo: ExitInfo | undefined;
  private stopRequested = false;

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    this.graceMs = options.graceMs ?? 10_000;
    // detached: a new process group per child. Ctrl-C at a terminal signals the
    // whole foreground group at once; keeping children out of it lets the
    // orchestrator stop them one by one in reverse order, and lets a signal to
    // the group reach grandchildren (npm → sh → node) too.
    this.child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    live.add(this);
    installExitHook();

    pipeLines(this.child.stdout, (line) => options.onLine(line, 'stdout'));
    pipeLines(this.child.stderr, (line) => options.onLine(line, 'stderr'));

    this.exited = new Promise<ExitInfo>((resolve) => {
      const finish = (info: ExitInfo) => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        live.delete(this);
        resolve(info);
      };
      this.child.once('error', (error) => {
        // A spawn failure never produces 'exit'; a later error (kill failing) is not an exit.
        if (this.child.pid === undefined) finish({ code: null, signal: null, error });
      });
      this.child.once('exit', (code, signal) => {
        // 'close' waits for the pipes, so the last lines are printed before anyone
        // reports the exit; a grandchild holding a pipe open must not delay it forever.
        const fallback = setTimeout(() => finish({ code, signal }), 2_000);
        this.child.once('close', () => {
          clearTimeout(fallback);
          finish({ code, signal });
        });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** How it ended, once it has. */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** True once stop() was called, so an exit after it is expected. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Sends a signal to the child's whole process group. */
  signal(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || !this.running) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // The group is already gone; the exit event follows.
    }
  }

  /** SIGTERM, then SIGKILL if it is still running after the grace period. */
  async stop(graceMs = this.graceMs): Promise<ExitInfo> {
    this.stopRequested = true;
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Marks the process as being stopped without sending anything (the caller signals it). */
  markStopping(): void {
    this.stopRequested = true;
  }
}

function pipeLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', onLine);
}

export function spawnManaged(options: ManagedProcessOptions): ManagedProcess {
  return new ManagedProcess(options);
}
