import assert from 'node:assert/strict';

import type { PowerState } from '../../../src/api/index.js';
import {
  isBeingDeleted,
  isGone,
  isTransitional,
  matchesPowerState,
  nextPowerAction,
  observedPowerState,
  phaseOf,
  type PowerAction,
} from '../../../src/containerinstance/server-state.js';
import { toServer, type Server } from '../../../src/openstack/compute-types.js';

/** Builds a server the way the compute client returns one from Nova's JSON. */
function server(status: string, extra: Record<string, unknown> = {}): Server {
  return toServer({ id: 'a', name: 'a', status, 'OS-EXT-STS:task_state': null, ...extra });
}

describe('server state', () => {
  describe('phaseOf', () => {
    const cases: Array<[string, string]> = [
      ['BUILD', 'Creating'],
      ['REBUILD', 'Creating'],
      ['ACTIVE', 'Running'],
      ['REBOOT', 'Running'],
      ['SHUTOFF', 'Stopped'],
      ['SUSPENDED', 'Stopped'],
      ['PAUSED', 'Paused'],
      ['ERROR', 'Failed'],
      ['UNKNOWN', 'Failed'],
      ['SOFT_DELETED', 'Deleting'],
    ];
    for (const [status, phase] of cases) {
      it(`maps ${status} to ${phase}`, () => {
        assert.equal(phaseOf(server(status)), phase);
      });
    }
  });

  describe('isTransitional', () => {
    it('counts BUILD as transitional', () => {
      assert.equal(isTransitional(server('BUILD')), true);
    });

    it('counts a task state as transitional', () => {
      assert.equal(
        isTransitional(server('ACTIVE', { 'OS-EXT-STS:task_state': 'powering-off' })),
        true,
      );
    });

    it('counts ACTIVE without task as settled', () => {
      assert.equal(isTransitional(server('ACTIVE')), false);
    });

    it('counts ERROR as settled', () => {
      assert.equal(isTransitional(server('ERROR')), false);
    });

    it('counts an unknown status as transitional', () => {
      assert.equal(isTransitional(server('MIGRATING')), true);
    });
  });

  describe('gone and deleting', () => {
    it('counts SOFT_DELETED as gone', () => {
      assert.equal(isGone(server('SOFT_DELETED')), true);
    });

    it('counts DELETED as gone', () => {
      assert.equal(isGone(server('DELETED')), true);
    });

    it('counts task deleting as being deleted', () => {
      assert.equal(isBeingDeleted(server('ACTIVE', { 'OS-EXT-STS:task_state': 'deleting' })), true);
    });

    it('counts ACTIVE as alive', () => {
      assert.equal(isBeingDeleted(server('ACTIVE')), false);
    });
  });

  describe('observedPowerState', () => {
    const cases: Array<[number, string]> = [
      [0, 'Unknown'],
      [1, 'Running'],
      [3, 'Paused'],
      [4, 'Stopped'],
      [6, 'Crashed'],
      [7, 'Suspended'],
      [9, 'Unknown'],
    ];
    for (const [value, name] of cases) {
      it(`maps power state ${value} to ${name}`, () => {
        assert.equal(
          observedPowerState(server('ACTIVE', { 'OS-EXT-STS:power_state': value })),
          name,
        );
      });
    }

    it('returns undefined without a power state', () => {
      assert.equal(observedPowerState(server('ACTIVE')), undefined);
    });
  });

  describe('nextPowerAction', () => {
    const cases: Array<[string, PowerState, PowerAction | undefined]> = [
      ['ACTIVE', 'Running', undefined],
      ['SHUTOFF', 'Running', 'start'],
      ['PAUSED', 'Running', 'unpause'],
      ['ACTIVE', 'Stopped', 'stop'],
      ['PAUSED', 'Stopped', 'unpause'],
      ['SHUTOFF', 'Stopped', undefined],
      ['ACTIVE', 'Paused', 'pause'],
      ['SHUTOFF', 'Paused', 'start'],
      ['PAUSED', 'Paused', undefined],
      ['SUSPENDED', 'Running', undefined],
      ['BUILD', 'Stopped', undefined],
    ];
    for (const [status, requested, action] of cases) {
      it(`takes ${String(action)} from ${status} towards ${requested}`, () => {
        assert.equal(nextPowerAction(server(status), requested), action);
      });
    }

    it('waits while a task runs', () => {
      const busy = server('ACTIVE', { 'OS-EXT-STS:task_state': 'pausing' });
      assert.equal(nextPowerAction(busy, 'Stopped'), undefined);
    });
  });

  describe('matchesPowerState', () => {
    it('matches SHUTOFF with Stopped', () => {
      assert.equal(matchesPowerState(server('SHUTOFF'), 'Stopped'), true);
    });

    it('does not match ACTIVE with Paused', () => {
      assert.equal(matchesPowerState(server('ACTIVE'), 'Paused'), false);
    });
  });
});
