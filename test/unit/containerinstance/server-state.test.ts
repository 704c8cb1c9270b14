import assert from 'node:assert/strict';

import type { PowerState } from '../../../src/api/index.js';
import {
  actionBeforeRebuild,
  actionBeforeTagUpdate,
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
      ['SHELVED', 'Stopped'],
      ['SHELVED_OFFLOADED', 'Stopped'],
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
      ['SUSPENDED', 'Running', 'resume'],
      ['SUSPENDED', 'Paused', 'resume'],
      ['SUSPENDED', 'Stopped', 'resume'],
      ['SHELVED', 'Running', 'unshelve'],
      ['SHELVED_OFFLOADED', 'Running', 'unshelve'],
      ['SHELVED', 'Paused', 'unshelve'],
      ['SHELVED_OFFLOADED', 'Paused', 'unshelve'],
      ['SHELVED', 'Stopped', undefined],
      ['SHELVED_OFFLOADED', 'Stopped', undefined],
      ['RESCUE', 'Running', undefined],
      ['RESCUE', 'Stopped', undefined],
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

    it('waits while a shelve offloads', () => {
      const busy = server('SHELVED', { 'OS-EXT-STS:task_state': 'shelving_offloading' });
      assert.equal(nextPowerAction(busy, 'Running'), undefined);
    });

    it('waits while an unshelve spawns', () => {
      const busy = server('SHELVED_OFFLOADED', { 'OS-EXT-STS:task_state': 'spawning' });
      assert.equal(nextPowerAction(busy, 'Running'), undefined);
    });
  });

  describe('two-step power changes', () => {
    // Each row: the status, the requested power state, and the statuses
    // the actions pass through until the power state matches.
    const paths: Array<[string, PowerState, string[]]> = [
      ['SUSPENDED', 'Stopped', ['ACTIVE', 'SHUTOFF']],
      ['SUSPENDED', 'Paused', ['ACTIVE', 'PAUSED']],
      ['SHELVED_OFFLOADED', 'Paused', ['ACTIVE', 'PAUSED']],
    ];
    const after: Record<PowerAction, string> = {
      start: 'ACTIVE',
      stop: 'SHUTOFF',
      pause: 'PAUSED',
      unpause: 'ACTIVE',
      resume: 'ACTIVE',
      unshelve: 'ACTIVE',
    };
    for (const [status, requested, expected] of paths) {
      it(`reaches ${requested} from ${status}`, () => {
        const passed: string[] = [];
        let current = status;
        for (let step = 0; step < 4 && !matchesPowerState(server(current), requested); step++) {
          const action = nextPowerAction(server(current), requested);
          assert.ok(action !== undefined, `no action from ${current} towards ${requested}`);
          current = after[action];
          passed.push(current);
        }
        assert.deepEqual(passed, expected);
      });
    }
  });

  describe('matchesPowerState', () => {
    const cases: Array<[string, PowerState, boolean]> = [
      ['SHUTOFF', 'Stopped', true],
      ['SHELVED', 'Stopped', true],
      ['SHELVED_OFFLOADED', 'Stopped', true],
      ['SUSPENDED', 'Stopped', false],
      ['SHELVED_OFFLOADED', 'Running', false],
      ['SUSPENDED', 'Running', false],
      ['RESCUE', 'Running', false],
      ['ACTIVE', 'Paused', false],
      ['PAUSED', 'Paused', true],
    ];
    for (const [status, requested, matches] of cases) {
      it(`${matches ? 'matches' : 'does not match'} ${status} with ${requested}`, () => {
        assert.equal(matchesPowerState(server(status), requested), matches);
      });
    }
  });

  describe('actionBeforeRebuild', () => {
    const cases: Array<[string, PowerAction | undefined]> = [
      ['ACTIVE', undefined],
      ['SHUTOFF', undefined],
      ['ERROR', undefined],
      ['PAUSED', 'unpause'],
      ['SUSPENDED', 'resume'],
      ['SHELVED', 'unshelve'],
      ['SHELVED_OFFLOADED', 'unshelve'],
    ];
    for (const [status, action] of cases) {
      it(`takes ${String(action)} before rebuilding ${status}`, () => {
        assert.equal(actionBeforeRebuild(server(status)), action);
      });
    }
  });

  describe('actionBeforeTagUpdate', () => {
    const cases: Array<[string, PowerAction | undefined]> = [
      ['ACTIVE', undefined],
      ['PAUSED', undefined],
      ['SUSPENDED', undefined],
      ['SHUTOFF', undefined],
      ['SHELVED', 'unshelve'],
      ['SHELVED_OFFLOADED', 'unshelve'],
    ];
    for (const [status, action] of cases) {
      it(`takes ${String(action)} before tagging ${status}`, () => {
        assert.equal(actionBeforeTagUpdate(server(status)), action);
      });
    }
  });
});
