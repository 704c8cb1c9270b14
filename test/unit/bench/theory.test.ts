import assert from 'node:assert/strict';

import { perInstanceMinimumMs, theoreticalMinimumMs } from '../../../bench/convergence/theory.js';

describe('theoretical minimum', () => {
  it('is bound by the create waves when applying is fast', () => {
    // max(2*20 + ceil(1000/4)*20, 500 + 20) + 2000 + 20
    const ms = theoreticalMinimumMs({
      instances: 1000,
      concurrency: 4,
      latencyMs: 20,
      buildDelayMs: 2000,
      applyMs: 500,
    });
    assert.equal(ms, 5040 + 2000 + 20);
  });

  it('is bound by the apply time when applying is slow', () => {
    const ms = theoreticalMinimumMs({
      instances: 100,
      concurrency: 4,
      latencyMs: 20,
      buildDelayMs: 2000,
      applyMs: 3000,
    });
    assert.equal(ms, 3020 + 2000 + 20);
  });

  it('rounds a partial create wave up', () => {
    const ms = theoreticalMinimumMs({
      instances: 5,
      concurrency: 4,
      latencyMs: 10,
      buildDelayMs: 0,
      applyMs: 0,
    });
    assert.equal(ms, 2 * 10 + 2 * 10 + 10);
  });

  it('rejects zero concurrency', () => {
    assert.throws(
      () =>
        theoreticalMinimumMs({
          instances: 1,
          concurrency: 0,
          latencyMs: 20,
          buildDelayMs: 0,
          applyMs: 0,
        }),
      /concurrency >= 1\. Received: 1, 0/,
    );
  });

  it('gives L + B + L per instance', () => {
    assert.equal(perInstanceMinimumMs(20, 2000), 2040);
  });
});
