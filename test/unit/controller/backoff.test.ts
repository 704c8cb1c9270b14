import assert from 'node:assert/strict';

import { Backoff, backoffDelay } from '../../../src/controller/backoff.js';

describe('backoff', () => {
  it('doubles the delay per attempt', () => {
    const options = { baseMs: 100, maxMs: 100_000, jitter: 0 };
    assert.deepEqual(
      [1, 2, 3, 4].map((attempt) => backoffDelay(attempt, options)),
      [100, 200, 400, 800],
    );
  });

  it('caps the delay at maxMs', () => {
    assert.equal(backoffDelay(30, { baseMs: 100, maxMs: 5000, jitter: 0 }), 5000);
    assert.equal(backoffDelay(10_000, { baseMs: 100, maxMs: 5000, jitter: 0 }), 5000);
  });

  it('spreads the delay by jitter', () => {
    const options = { baseMs: 1000, maxMs: 100_000, jitter: 0.2 };
    assert.equal(
      backoffDelay(1, options, () => 0),
      800,
    );
    assert.equal(
      backoffDelay(1, options, () => 0.5),
      1000,
    );
    assert.equal(
      backoffDelay(1, options, () => 0.9999),
      1200,
    );
  });

  it('never exceeds maxMs with jitter', () => {
    assert.equal(
      backoffDelay(20, { baseMs: 1000, maxMs: 30_000, jitter: 0.5 }, () => 0.9999),
      30_000,
    );
  });

  it('rejects invalid settings', () => {
    assert.throws(() => backoffDelay(1, { baseMs: 0 }), /baseMs must be > 0.*Received: baseMs=0/);
    assert.throws(() => backoffDelay(1, { baseMs: 10, maxMs: 5 }), /maxMs >= baseMs.*maxMs=5/);
    assert.throws(() => backoffDelay(1, { jitter: 1 }), /jitter: must be in \[0, 1\). Received: 1/);
  });

  it('resets to the base delay', () => {
    const backoff = new Backoff({ baseMs: 10, maxMs: 1000, jitter: 0 });
    assert.equal(backoff.next(), 10);
    assert.equal(backoff.next(), 20);
    assert.equal(backoff.attempts, 2);
    backoff.reset();
    assert.equal(backoff.next(), 10);
  });
});
