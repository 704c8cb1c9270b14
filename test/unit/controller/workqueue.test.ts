import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { WorkQueue, type ProcessOutcome } from '../../../src/controller/workqueue.js';
import { waitFor } from '../../support/process.js';

/** Records every run of every key, with start and end times and the number of runs in flight. */
function recorder(run: (key: string, attempt: number) => Promise<ProcessOutcome>) {
  const runs: { key: string; startedAt: number; endedAt?: number }[] = [];
  const inFlight = new Map<string, number>();
  let maxPerKey = 0;
  let active = 0;
  let maxActive = 0;
  const process = async (key: string): Promise<ProcessOutcome> => {
    const entry: { key: string; startedAt: number; endedAt?: number } = {
      key,
      startedAt: performance.now(),
    };
    runs.push(entry);
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    maxPerKey = Math.max(maxPerKey, inFlight.get(key)!);
    active += 1;
    maxActive = Math.max(maxActive, active);
    try {
      return await run(key, runs.filter((r) => r.key === key).length);
    } finally {
      inFlight.set(key, inFlight.get(key)! - 1);
      active -= 1;
      entry.endedAt = performance.now();
    }
  };
  return {
    process,
    runs,
    runsOf: (key: string) => runs.filter((r) => r.key === key),
    maxPerKey: () => maxPerKey,
    maxActive: () => maxActive,
  };
}

const success: ProcessOutcome = { type: 'success' };

describe('work queue', () => {
  const queues: WorkQueue[] = [];
  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.shutdown(2000);
  });
  function makeQueue(options: Omit<ConstructorParameters<typeof WorkQueue>[0], 'name'>): WorkQueue {
    const queue = new WorkQueue({ name: 'test', ...options });
    queues.push(queue);
    return queue;
  }

  it('never runs one key twice at once', async () => {
    const rec = recorder(async () => {
      await sleep(50);
      return success;
    });
    const queue = makeQueue({ concurrency: 4, process: rec.process });
    queue.add('ns/a');
    await waitFor('first run', async () => rec.runs.length === 1);
    for (let i = 0; i < 5; i += 1) queue.add('ns/a');
    await waitFor(
      'queue idle',
      async () => queue.active === 0 && queue.depth === 0 && rec.runs.length >= 2,
    );
    assert.equal(rec.maxPerKey(), 1);
  });

  it('reruns key changed during run once', async () => {
    const rec = recorder(async () => {
      await sleep(50);
      return success;
    });
    const queue = makeQueue({ concurrency: 2, process: rec.process });
    queue.add('ns/a');
    await waitFor('first run', async () => rec.runs.length === 1);
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    await waitFor(
      'second run ends',
      async () => rec.runs.length === 2 && rec.runs[1]!.endedAt !== undefined,
    );
    await sleep(100);
    assert.equal(rec.runsOf('ns/a').length, 2);
    assert.ok(
      rec.runs[1]!.startedAt >= rec.runs[0]!.endedAt!,
      'the rerun starts after the first run ended',
    );
  });

  it('deduplicates a waiting key', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const rec = recorder(async (key) => {
      if (key === 'ns/blocker') await gate;
      return success;
    });
    const queue = makeQueue({ concurrency: 1, process: rec.process });
    queue.add('ns/blocker');
    await waitFor('blocker runs', async () => rec.runs.length === 1);
    queue.add('ns/b');
    queue.add('ns/b');
    queue.add('ns/b');
    assert.equal(queue.depth, 1);
    release();
    await waitFor('b runs', async () => rec.runsOf('ns/b').length === 1);
    await sleep(50);
    assert.equal(rec.runsOf('ns/b').length, 1);
  });

  it('backs off failures exponentially', async () => {
    const rec = recorder(async (_key, attempt) => (attempt <= 3 ? { type: 'failure' } : success));
    const queue = makeQueue({
      process: rec.process,
      backoff: { baseMs: 40, maxMs: 10_000, jitter: 0 },
    });
    const failureCounts: number[] = [];
    queue.add('ns/a');
    await waitFor(
      'four runs',
      async () => {
        failureCounts.push(queue.failureCount('ns/a'));
        return rec.runs.length === 4 && rec.runs[3]!.endedAt !== undefined;
      },
      5000,
      5,
    );
    const gaps = [1, 2, 3].map((i) => rec.runs[i]!.startedAt - rec.runs[i - 1]!.endedAt!);
    // Node timers may fire up to 1 ms early, hence the 2 ms slack.
    assert.ok(gaps[0]! >= 40 - 2, `first retry waited ${gaps[0]} ms, expected >= 40`);
    assert.ok(gaps[1]! >= 80 - 2, `second retry waited ${gaps[1]} ms, expected >= 80`);
    assert.ok(gaps[2]! >= 160 - 2, `third retry waited ${gaps[2]} ms, expected >= 160`);
    assert.ok(failureCounts.includes(3), 'failure count reached 3');
  });

  it('resets backoff after a success', async () => {
    const outcomes: ProcessOutcome[] = [
      { type: 'failure' },
      { type: 'failure' },
      success,
      { type: 'failure' },
    ];
    const failuresAtStart: number[] = [];
    const created: { queue?: WorkQueue } = {};
    const rec = recorder(async (key) => {
      failuresAtStart.push(created.queue!.failureCount(key));
      return outcomes.shift() ?? success;
    });
    const queue = (created.queue = makeQueue({
      process: rec.process,
      backoff: { baseMs: 10, maxMs: 1000, jitter: 0 },
    }));
    queue.add('ns/a');
    await waitFor(
      'three runs end',
      async () => rec.runs.length === 3 && rec.runs[2]!.endedAt !== undefined,
      5000,
      5,
    );
    assert.deepEqual(failuresAtStart, [0, 1, 2]);
    assert.equal(queue.failureCount('ns/a'), 0);
    queue.add('ns/a');
    await waitFor(
      'fourth run ends',
      async () => rec.runs.length === 4 && rec.runs[3]!.endedAt !== undefined,
      5000,
      5,
    );
    assert.equal(
      queue.failureCount('ns/a'),
      1,
      'a failure after a success starts counting at 1 again',
    );
  });

  it('treats a thrown error as failure', async () => {
    const errors: unknown[] = [];
    const queue = makeQueue({
      process: async () => {
        throw new Error('boom');
      },
      backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 },
      onProcessError: (_key, err) => errors.push(err),
    });
    queue.add('ns/a');
    await waitFor('failure recorded', async () => queue.failureCount('ns/a') === 1);
    assert.equal((errors[0] as Error).message, 'boom');
    assert.ok(queue.has('ns/a'), 'the key is scheduled for a retry');
  });

  it('waits at least retryAfterMs on failure', async () => {
    const rec = recorder(async (_key, attempt) =>
      attempt === 1 ? { type: 'failure', retryAfterMs: 150 } : success,
    );
    const queue = makeQueue({
      process: rec.process,
      backoff: { baseMs: 5, maxMs: 1000, jitter: 0 },
    });
    queue.add('ns/a');
    await waitFor('second run', async () => rec.runs.length === 2);
    const gap = rec.runs[1]!.startedAt - rec.runs[0]!.endedAt!;
    assert.ok(gap >= 150 - 2, `retry waited ${gap} ms, expected >= 150`);
  });

  it('requeues after the requested delay', async () => {
    const rec = recorder(async (_key, attempt) =>
      attempt === 1 ? { type: 'success', requeueAfterMs: 120 } : success,
    );
    const queue = makeQueue({ process: rec.process });
    queue.add('ns/a');
    await waitFor('second run', async () => rec.runs.length === 2);
    const gap = rec.runs[1]!.startedAt - rec.runs[0]!.endedAt!;
    assert.ok(gap >= 120 - 2, `requeue waited ${gap} ms, expected >= 120`);
    assert.equal(queue.failureCount('ns/a'), 0);
    await sleep(200);
    assert.equal(rec.runs.length, 2);
  });

  it('keeps the earlier of two delayed adds', async () => {
    const rec = recorder(async () => success);
    const queue = makeQueue({ process: rec.process });
    queue.addAfter('ns/a', 5_000);
    queue.addAfter('ns/a', 50);
    queue.addAfter('ns/a', 10_000);
    await waitFor('run after the short delay', async () => rec.runs.length === 1, 2000);
    assert.equal(queue.has('ns/a'), false);
  });

  it('bounds global concurrency', async () => {
    const rec = recorder(async () => {
      await sleep(40);
      return success;
    });
    const queue = makeQueue({ concurrency: 3, process: rec.process });
    for (let i = 0; i < 12; i += 1) queue.add(`ns/k${i}`);
    await waitFor(
      'all keys ran',
      async () => rec.runs.filter((r) => r.endedAt !== undefined).length === 12,
    );
    assert.equal(rec.maxActive(), 3);
  });

  it('rejects concurrency below one', () => {
    assert.throws(
      () => new WorkQueue({ name: 'bad', concurrency: 0, process: async () => success }),
      /concurrency must be a positive integer. Received: 0/,
    );
  });

  it('shutdown finishes running keys', async () => {
    const rec = recorder(async () => {
      await sleep(150);
      return success;
    });
    const queue = new WorkQueue({ name: 'test', concurrency: 1, process: rec.process });
    queue.add('ns/a');
    queue.add('ns/b');
    await waitFor('a runs', async () => rec.runs.length === 1);
    const result = await queue.shutdown(2000);
    assert.equal(result.drained, true);
    assert.notEqual(rec.runs[0]!.endedAt, undefined);
    assert.equal(rec.runsOf('ns/b').length, 0, 'a waiting key is dropped');
    queue.add('ns/c');
    await sleep(50);
    assert.equal(rec.runsOf('ns/c').length, 0, 'adds after shutdown are ignored');
  });

  it('shutdown reports keys past the deadline', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new WorkQueue({
      name: 'test',
      process: async () => {
        await gate;
        return success;
      },
    });
    queue.add('ns/slow');
    await waitFor('slow runs', async () => queue.active === 1);
    const result = await queue.shutdown(50);
    assert.equal(result.drained, false);
    assert.deepEqual(result.abandoned, ['ns/slow']);
    release();
  });

  it('reports depth, adds, retries and wait', async () => {
    const counts = { adds: 0, retries: 0, waits: 0, works: 0, depths: [] as number[] };
    const rec = recorder(async (_key, attempt) => (attempt === 1 ? { type: 'failure' } : success));
    const queue = makeQueue({
      process: rec.process,
      backoff: { baseMs: 10, maxMs: 100, jitter: 0 },
      metrics: {
        setDepth: (depth) => counts.depths.push(depth),
        countAdd: () => (counts.adds += 1),
        countRetry: () => (counts.retries += 1),
        observeWait: () => (counts.waits += 1),
        observeWork: () => (counts.works += 1),
      },
    });
    queue.add('ns/a');
    await waitFor(
      'retry ran',
      async () => rec.runs.length === 2 && rec.runs[1]!.endedAt !== undefined,
    );
    assert.equal(counts.adds, 2, 'the add plus the retry add');
    assert.equal(counts.retries, 1);
    assert.equal(counts.waits, 2);
    assert.equal(counts.works, 2);
    assert.equal(counts.depths.at(-1), 0);
  });
});
