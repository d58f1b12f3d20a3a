import { readdir, readFile } from 'node:fs/promises';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../src/system/workflowBundle.js';
import { encryptingDataConverter, payloadCodecOf } from '../src/infra/payloadCodec.js';
import { testConfig } from './support/testConfig.js';
import { historyFromJson } from './support/historyJson.js';
import { historiesDir } from './support/historyRecorder.js';

// Replays every history recorded from the lifecycle tests (test/histories,
// written by `npm run histories:record`) against today's workflow code. A change
// that would make a running relationship take a different path than its
// history recorded fails here: ship it behind `patched()` instead.
describe('replaying recorded workflow histories', () => {
  it('replays every history in test/histories without non-determinism', async () => {
    // The replay worker's start/stop chatter is noise here; a failure is reported below.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const files = (await readdir(historiesDir)).filter((f) => f.endsWith('.json')).sort();
    // The paths the issue asks to keep covered; fewer files means recording went wrong.
    expect(files.length).toBeGreaterThanOrEqual(8);

    const histories = await Promise.all(
      files.map(async (file) => ({
        workflowId: `replay-${file.replace(/\.json$/, '')}`,
        history: historyFromJson(JSON.parse(await readFile(`${historiesDir}${file}`, 'utf8'))),
      })),
    );
    const workflowBundle = await bundleWorkflows();
    const failures: string[] = [];
    let replayed = 0;
    // The codec of a test run: histories recorded since payloads are encrypted need its key; older ones pass through it.
    const dataConverter = encryptingDataConverter(payloadCodecOf(testConfig({})));
    for await (const result of Worker.runReplayHistories({ workflowBundle, dataConverter }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  }, 120_000);
});
