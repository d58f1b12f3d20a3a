import type { ConsistencyOptions } from '../consistency/consistencyCheck.js';
import { reportLines, type ConsistencyReport } from '../consistency/consistencyReport.js';

// check: the consistency checker (src/operator/consistency) over the deployment
// the environment names. Unlike the other commands it reads Postgres, Redis and
// Temporal itself (read-only): it must also work when the API is down, which is
// when an operator most wants to know what state things are in.

export type RunConsistencyCheck = (options: ConsistencyOptions) => Promise<ConsistencyReport>;

/** Prints the report; 0 when every invariant holds, 1 when one does not. */
export async function checkCommand(run: RunConsistencyCheck, options: ConsistencyOptions, json: boolean, out: (line: string) => void): Promise<number> {
  const report = await run(options);
  if (json) out(JSON.stringify(report, null, 2));
  else for (const line of reportLines(report)) out(line);
  return report.ok ? 0 : 1;
}
