import { readdir, readFile } from 'node:fs/promises';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../src/system/workflowBundle.js';
import { ENCRYPTED_ENCODING, encryptingDataConverter, payloadCodecOf } from '../src/infra/payloadCodec.js';
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
    // At least one was written with encrypted payloads (test/security/encryptedHistory.test.ts), so the codec is replayed too.
    const encryptedEncoding = Buffer.from(ENCRYPTED_ENCODING).toString('base64');
    const texts = await Promise.all(files.map((file) => readFile(`${historiesDir}${file}`, 'utf8')));
    expect(texts.filter((text) => text.includes(encryptedEncoding)).length).toBeGreaterThanOrEqual(1);

    const histories = files.map((file, index) => ({
      workflowId: `replay-${file.replace(/\.json$/, '')}`,
      history: historyFromJson(JSON.parse(texts[index] ?? '')),
    }));
    const failures: string[] = [];
    let replayed = 0;
    // The codec of a test run: histories recorded since payloads are encrypted need its key; older ones pass through it.
    const dataConverter = encryptingDataConverter(payloadCodecOf(testConfig({})));
    // And through the traced bundle a worker loads when tracing is on (src/workflows/tracingInterceptors.ts):
    // a worker may replay, with tracing on, what one with tracing off recorded, and the other way round.
    // Its span sink is registered as a worker with tracing on has it (a replay never calls it).
    const spanSink = { exporter: { export: { fn: () => undefined } } };
    for (const traced of [false, true]) {
      const workflowBundle = await bundleWorkflows({ traced });
      for await (const result of Worker.runReplayHistories({ workflowBundle, dataConverter, ...(traced ? { sinks: spanSink } : {}) }, histories)) {
        replayed++;
        if (result.error) failures.push(`${traced ? 'traced bundle: ' : ''}${result.workflowId}: ${result.error.name}: ${result.error.message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(2 * files.length);
  }, 240_000);
});
