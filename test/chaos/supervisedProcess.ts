import { appendFileSync } from 'node:fs';
import { startCompiled, type Compiled } from '../support/compiledProcess.js';

// The worker or the API from the compiled build, kept running the way a process
// supervisor (systemd, Kubernetes) keeps it: whenever it exits it is started
// again. `kill9()` is the fault; an exit nobody asked for is counted, so a run
// reports processes that died of a fault in another service.

export interface SupervisedProcess {
  name: string;
  /** kill -9, then started again after `downMs`. */
  kill9(downMs: number): Promise<void>;
  /** Resolves once `ready` holds for the current incarnation. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Exits the supervisor did not cause, with how each ended. */
  unplannedExits: string[];
  starts: number;
  output(): string;
  stop(): Promise<void>;
}

/** `logFile` gets every line of every incarnation, so a finding can be traced after the run. */
export function supervise(name: string, entry: string, env: NodeJS.ProcessEnv, ready: (proc: Compiled) => Promise<boolean> | boolean, logFile?: string): SupervisedProcess {
  let current: Compiled | undefined;
  let stopping = false;
  let killedOnPurpose = false;
  const unplannedExits: string[] = [];
  const log: string[] = [];
  let starts = 0;

  const launch = () => {
    if (stopping) return;
    starts++;
    const proc = startCompiled(name, entry, env);
    current = proc;
    void proc.exited.then((exit) => {
      log.push(...proc.lines.slice(-20));
      if (logFile) appendFileSync(logFile, `--- ${name} start ${starts}: exit code ${exit.code} signal ${exit.signal}\n${proc.lines.join('\n')}\n`);
      if (stopping) return;
      if (killedOnPurpose) {
        killedOnPurpose = false;
        return;
      }
      unplannedExits.push(`${new Date().toISOString()} code ${exit.code} signal ${exit.signal}: ${proc.lines.slice(-3).join(' | ').slice(0, 600)}`);
      setTimeout(launch, 1_000);
    });
  };
  launch();

  return {
    name,
    unplannedExits,
    get starts() {
      return starts;
    },
    async kill9(downMs) {
      const proc = current;
      if (!proc || proc.exit) return;
      killedOnPurpose = true;
      proc.child.kill('SIGKILL');
      await proc.exited;
      await new Promise((resolve) => setTimeout(resolve, downMs));
      launch();
    },
    async waitReady(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const proc = current;
        if (proc && !proc.exit && (await Promise.resolve(ready(proc)).catch(() => false))) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`${name} not ready within ${timeoutMs} ms\n${this.output()}`);
    },
    output: () => `--- ${name} (${starts} starts) ---\n${[...log, ...(current?.lines.slice(-40) ?? [])].slice(-80).join('\n')}`,
    async stop() {
      stopping = true;
      const proc = current;
      if (proc && !proc.exit) {
        proc.child.kill('SIGTERM');
        const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
        await proc.exited;
        clearTimeout(timer);
      }
    },
  };
}
