import assert from 'node:assert/strict';

import {
  conditionsEqual,
  CONDITION_TYPES,
  findCondition,
  formatKubernetesTime,
  isConditionTrue,
  MESSAGE_MAX_LENGTH,
  removeCondition,
  setCondition,
} from '../../src/api/conditions.js';
import type { Condition } from '../../src/api/types.js';

const t0 = new Date('2025-01-02T03:04:05.678Z');
const t1 = new Date('2025-01-02T03:10:00.000Z');

const ready = (
  status: Condition['status'],
  reason = 'ServerActive',
  message = '',
): Parameters<typeof setCondition>[1] => ({
  type: 'Ready',
  status,
  reason,
  message,
  observedGeneration: 1,
});

describe('conditions', () => {
  it('lists the five condition types', () => {
    assert.deepEqual(
      [...CONDITION_TYPES],
      ['Ready', 'Reconciling', 'Stalled', 'ImagePublished', 'ServerReady'],
    );
  });

  it('formats time in whole UTC seconds', () => {
    assert.equal(formatKubernetesTime(t0), '2025-01-02T03:04:05Z');
  });

  it('adds a new condition at now', () => {
    const [condition] = setCondition(undefined, ready('True'), t0);
    assert.deepEqual(condition, {
      type: 'Ready',
      status: 'True',
      observedGeneration: 1,
      lastTransitionTime: '2025-01-02T03:04:05Z',
      reason: 'ServerActive',
      message: '',
    });
  });

  it('keeps lastTransitionTime for unchanged status', () => {
    const first = setCondition(undefined, ready('False', 'Creating', 'server is BUILD'), t0);
    const second = setCondition(
      first,
      { ...ready('False', 'Publishing', 'uploading image'), observedGeneration: 2 },
      t1,
    );
    const condition = findCondition(second, 'Ready');
    assert.equal(condition?.lastTransitionTime, '2025-01-02T03:04:05Z');
    assert.equal(condition?.reason, 'Publishing');
    assert.equal(condition?.message, 'uploading image');
    assert.equal(condition?.observedGeneration, 2);
  });

  it('moves lastTransitionTime on status change', () => {
    const first = setCondition(undefined, ready('False', 'Creating'), t0);
    const second = setCondition(first, ready('True'), t1);
    assert.equal(findCondition(second, 'Ready')?.lastTransitionTime, '2025-01-02T03:10:00Z');
  });

  it('leaves the input list unchanged', () => {
    const first = setCondition(undefined, ready('False', 'Creating'), t0);
    const snapshot = structuredClone(first);
    setCondition(first, ready('True'), t1);
    assert.deepEqual(first, snapshot);
  });

  it('keeps the order of other conditions', () => {
    let conditions = setCondition(undefined, ready('False', 'Creating'), t0);
    conditions = setCondition(
      conditions,
      { type: 'Reconciling', status: 'True', reason: 'Progressing', message: '' },
      t0,
    );
    conditions = setCondition(conditions, ready('True'), t1);
    assert.deepEqual(
      conditions.map((condition) => condition.type),
      ['Ready', 'Reconciling'],
    );
  });

  it('truncates messages over the apiserver limit', () => {
    const [condition] = setCondition(
      undefined,
      ready('False', 'CloudError', 'x'.repeat(MESSAGE_MAX_LENGTH + 10)),
      t0,
    );
    assert.equal(condition?.message.length, MESSAGE_MAX_LENGTH);
    assert.ok(condition?.message.endsWith(' [truncated]'));
  });

  it('rejects a reason the apiserver rejects', () => {
    assert.throws(
      () => setCondition(undefined, ready('False', 'server not found'), t0),
      /invalid condition reason "server not found" for Ready/,
    );
  });

  it('reports True only for status True', () => {
    const conditions = setCondition(undefined, ready('Unknown', 'Pending'), t0);
    assert.equal(isConditionTrue(conditions, 'Ready'), false);
    assert.equal(isConditionTrue(setCondition(conditions, ready('True'), t1), 'Ready'), true);
    assert.equal(isConditionTrue(conditions, 'Stalled'), false);
  });

  it('removes a condition by type', () => {
    const conditions = setCondition(
      setCondition(undefined, ready('True'), t0),
      { type: 'Stalled', status: 'True', reason: 'FlavorNotFound', message: '' },
      t0,
    );
    assert.deepEqual(
      removeCondition(conditions, 'Stalled').map((condition) => condition.type),
      ['Ready'],
    );
  });

  it('compares condition lists ignoring order', () => {
    const a = setCondition(
      setCondition(undefined, ready('True'), t0),
      { type: 'Stalled', status: 'False', reason: 'Progressing', message: '' },
      t0,
    );
    const b = [...a].reverse();
    assert.equal(conditionsEqual(a, b), true);
    assert.equal(
      conditionsEqual(a, setCondition(a, ready('True', 'ServerActive', 'changed'), t1)),
      false,
    );
    assert.equal(conditionsEqual(undefined, []), true);
  });
});
