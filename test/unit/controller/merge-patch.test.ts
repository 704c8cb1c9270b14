import assert from 'node:assert/strict';

import { createMergePatch, jsonEqual } from '../../../src/kube/merge-patch.js';

describe('merge patch', () => {
  it('returns undefined for equal values', () => {
    assert.equal(
      createMergePatch({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }),
      undefined,
    );
  });

  it('sets changed and added members', () => {
    assert.deepEqual(
      createMergePatch(
        { phase: 'Creating', id: 'x' },
        { phase: 'Running', id: 'x', ip: '10.0.0.12' },
      ),
      {
        phase: 'Running',
        ip: '10.0.0.12',
      },
    );
  });

  it('nulls removed members', () => {
    assert.deepEqual(
      createMergePatch({ phase: 'Failed', fault: { code: 500 } }, { phase: 'Failed' }),
      { fault: null },
    );
  });

  it('diffs nested objects', () => {
    assert.deepEqual(
      createMergePatch(
        { image: { glanceID: 'a', digest: 'd1' } },
        { image: { glanceID: 'a', digest: 'd2' } },
      ),
      {
        image: { digest: 'd2' },
      },
    );
  });

  it('replaces arrays whole', () => {
    const conditions = [{ type: 'Ready', status: 'True' }];
    assert.deepEqual(
      createMergePatch({ conditions: [{ type: 'Ready', status: 'False' }] }, { conditions }),
      { conditions },
    );
  });

  it('treats undefined and null as absent', () => {
    assert.equal(
      createMergePatch(
        { phase: 'Running' },
        { phase: 'Running', fault: undefined, serverID: null },
      ),
      undefined,
    );
    assert.deepEqual(
      createMergePatch({ phase: 'Running', fault: { code: 1 } }, { phase: 'Running', fault: null }),
      { fault: null },
    );
  });

  it('compares Dates as their JSON text', () => {
    const time = new Date('2026-01-02T03:04:05.000Z');
    assert.equal(createMergePatch({ time: '2026-01-02T03:04:05.000Z' }, { time }), undefined);
  });

  it('ignores key order in equality', () => {
    assert.equal(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 }), true);
    assert.equal(jsonEqual([1, 2], [2, 1]), false);
  });
});
