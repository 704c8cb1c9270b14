import assert from 'node:assert/strict';

import { percentile } from '../../../bench/convergence/stats.js';

describe('percentile', () => {
  const values = Array.from({ length: 100 }, (_, index) => 100 - index);

  it('returns the nearest-rank median', () => {
    assert.equal(percentile(values, 50), 50);
  });

  it('returns the nearest-rank p99', () => {
    assert.equal(percentile(values, 99), 99);
  });

  it('returns the maximum at p100', () => {
    assert.equal(percentile(values, 100), 100);
  });

  it('returns the only value of one', () => {
    assert.equal(percentile([7], 99), 7);
  });

  it('rejects an empty list', () => {
    assert.throws(() => percentile([], 50), /empty list/);
  });
});
