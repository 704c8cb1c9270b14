import assert from 'node:assert/strict';

import { ProcSampler, readProcSample } from '../../../bench/harness/proc-sampler.js';

describe('proc sampler', () => {
  it('reads the RSS of this process', () => {
    const sample = readProcSample(process.pid);
    const rss = process.memoryUsage().rss;
    assert.ok(
      Math.abs(sample.rssBytes - rss) < rss / 2,
      `VmRSS ${sample.rssBytes} far from memoryUsage().rss ${rss}`,
    );
  });

  it('reports a peak at least the current RSS', () => {
    const sample = readProcSample(process.pid);
    assert.ok(sample.peakRssBytes >= sample.rssBytes);
  });

  it('counts CPU time as it is spent', () => {
    const before = readProcSample(process.pid).cpuSeconds;
    const until = Date.now() + 300;
    while (Date.now() < until) Math.sqrt(Math.random());
    const after = readProcSample(process.pid).cpuSeconds;
    assert.ok(
      after - before >= 0.1,
      `CPU seconds grew by ${after - before} over a 300 ms busy loop`,
    );
  });

  it('names the PID of a process that is gone', () => {
    assert.throws(() => readProcSample(2 ** 22 + 1), /cannot read \/proc\/4194305/);
  });

  it('keeps the peak of a window that starts with it', () => {
    const sampler = new ProcSampler(process.pid, 10_000).start();
    sampler.stop();
    assert.ok(sampler.peakRssBytes() >= sampler.samples[0]!.rssBytes);
  });
});
