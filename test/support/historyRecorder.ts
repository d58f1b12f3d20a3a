import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { historyToJson } from './historyJson.js';

export const historiesDir = fileURLToPath(new URL('../histories/', import.meta.url));

/** `npm run histories:record` sets this; plain test runs leave the committed histories alone. */
export const recordingHistories = process.env.RECORD_HISTORIES === '1';

/**
 * Saves the history of one workflow run to test/histories/<name>.json, in the
 * JSON form Temporal's own tools write, for test/replay.test.ts to replay.
 */
export async function recordHistory(temporal: Client, name: string, workflowId: string, runId?: string): Promise<void> {
  if (!recordingHistories) return;
  const history = await temporal.workflow.getHandle(workflowId, runId).fetchHistory();
  await mkdir(historiesDir, { recursive: true });
  await writeFile(`${historiesDir}${name}.json`, `${historyToJson(history)}\n`);
}
