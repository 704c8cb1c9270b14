/**
 * How a Nova server's status, task state and power state read for a
 * ContainerInstance: its phase, its observed power state, whether it still
 * changes on its own, and which power action brings it to the requested state.
 */
import type { ObservedPowerState, Phase, PowerState } from '../api/index.js';
import type { Server } from '../openstack/index.js';

/** Server statuses after which the server no longer exists for the operator. */
const GONE_STATUSES: ReadonlySet<string> = new Set(['DELETED', 'SOFT_DELETED']);

/**
 * Server statuses that stay as they are until someone sends a request. Every
 * other status (BUILD, REBUILD, REBOOT, RESIZE, MIGRATING and so on) changes
 * on its own, so the observer lists servers more often while one is in it.
 */
const SETTLED_STATUSES: ReadonlySet<string> = new Set([
  'ACTIVE',
  'SHUTOFF',
  'PAUSED',
  'SUSPENDED',
  'SHELVED',
  'SHELVED_OFFLOADED',
  'ERROR',
  'RESCUE',
  'VERIFY_RESIZE',
  'UNKNOWN',
  'DELETED',
  'SOFT_DELETED',
]);

/** Phase of each Nova status; statuses not listed read as Running, because the container is up while they last. */
const PHASE_BY_STATUS: Readonly<Record<string, Phase>> = {
  BUILD: 'Creating',
  REBUILD: 'Creating',
  ACTIVE: 'Running',
  SHUTOFF: 'Stopped',
  SUSPENDED: 'Stopped',
  SHELVED: 'Stopped',
  SHELVED_OFFLOADED: 'Stopped',
  PAUSED: 'Paused',
  ERROR: 'Failed',
  UNKNOWN: 'Failed',
  DELETED: 'Deleting',
  SOFT_DELETED: 'Deleting',
};

/** Nova's `OS-EXT-STS:power_state` values (nova/compute/power_state.py). */
const POWER_STATE_NAMES: Readonly<Record<number, ObservedPowerState>> = {
  0: 'Unknown',
  1: 'Running',
  3: 'Paused',
  4: 'Stopped',
  6: 'Crashed',
  7: 'Suspended',
};

/**
 * The statuses that satisfy each requested power state once no task runs.
 * A shelved server satisfies Stopped, because its container does not run and
 * unshelving it only to stop it again would start the container for nothing.
 */
const STATUSES_FOR_POWER_STATE: Readonly<Record<PowerState, ReadonlySet<string>>> = {
  Running: new Set(['ACTIVE']),
  Stopped: new Set(['SHUTOFF', 'SHELVED', 'SHELVED_OFFLOADED']),
  Paused: new Set(['PAUSED']),
};

/** Statuses of a shelved server; Nova leaves SHELVED for SHELVED_OFFLOADED after `shelved_offload_time`. */
const SHELVED_STATUSES: ReadonlySet<string> = new Set(['SHELVED', 'SHELVED_OFFLOADED']);

/** A Nova server action the operator sends to reach the requested power state, or before a rebuild or a tag change. */
export type PowerAction = 'start' | 'stop' | 'pause' | 'unpause' | 'resume' | 'unshelve';

/** Returns whether the server is deleted or soft-deleted; both count as gone. */
export function isGone(server: Server): boolean {
  return GONE_STATUSES.has(server.status);
}

/** Returns whether Nova is deleting the server (task state `deleting`), so it will be gone soon. */
export function isBeingDeleted(server: Server): boolean {
  return server.taskState === 'deleting' || isGone(server);
}

/**
 * Returns whether the server is still changing without any further request:
 * a status such as BUILD or REBUILD, or any task state (powering-off,
 * rebuilding, deleting, ...).
 */
export function isTransitional(server: Server): boolean {
  if (server.taskState !== undefined && server.taskState !== null && server.taskState !== '') {
    return true;
  }
  return !SETTLED_STATUSES.has(server.status);
}

/** Returns the phase a server in this status shows. */
export function phaseOf(server: Server): Phase {
  return PHASE_BY_STATUS[server.status] ?? 'Running';
}

/** Returns the observed power state; undefined when Nova did not report one. */
export function observedPowerState(server: Server): ObservedPowerState | undefined {
  if (server.powerState === undefined) return undefined;
  return POWER_STATE_NAMES[server.powerState] ?? 'Unknown';
}

/** Returns whether the server is SHELVED or SHELVED_OFFLOADED. */
export function isShelved(server: Server): boolean {
  return SHELVED_STATUSES.has(server.status);
}

/**
 * Returns whether the server's status satisfies the requested power state:
 * ACTIVE for Running, PAUSED for Paused, and SHUTOFF, SHELVED or
 * SHELVED_OFFLOADED for Stopped.
 */
export function matchesPowerState(server: Server, requested: PowerState): boolean {
  return STATUSES_FOR_POWER_STATE[requested].has(server.status);
}

/**
 * Returns the next power action that moves a settled server towards the
 * requested power state, or undefined when none applies. Some targets take
 * two steps, because Nova (Zed) accepts `os-stop` only from ACTIVE or ERROR
 * and `pause` only from ACTIVE. So a paused or suspended server is unpaused
 * or resumed before it is stopped, and a stopped or shelved one is started
 * or unshelved before it is paused. RESCUE gets no action, because unrescue
 * would undo the repair work of the person who rescued the server.
 */
export function nextPowerAction(server: Server, requested: PowerState): PowerAction | undefined {
  if (isTransitional(server)) return undefined;
  if (server.status === 'SUSPENDED') return 'resume';
  switch (requested) {
    case 'Running':
      if (server.status === 'SHUTOFF') return 'start';
      if (server.status === 'PAUSED') return 'unpause';
      if (isShelved(server)) return 'unshelve';
      return undefined;
    case 'Stopped':
      if (server.status === 'ACTIVE') return 'stop';
      if (server.status === 'PAUSED') return 'unpause';
      return undefined;
    case 'Paused':
      if (server.status === 'ACTIVE') return 'pause';
      if (server.status === 'SHUTOFF') return 'start';
      if (isShelved(server)) return 'unshelve';
      return undefined;
  }
}

/**
 * Returns the action that brings a settled server into a state where Nova
 * accepts a rebuild, or undefined when it already is in one. Nova (Zed)
 * rebuilds only ACTIVE, SHUTOFF and ERROR servers, so a PAUSED server is
 * unpaused, a SUSPENDED one resumed and a shelved one unshelved first.
 */
export function actionBeforeRebuild(server: Server): PowerAction | undefined {
  if (server.status === 'PAUSED') return 'unpause';
  if (server.status === 'SUSPENDED') return 'resume';
  if (isShelved(server)) return 'unshelve';
  return undefined;
}

/**
 * Returns the action that brings a settled server into a state where Nova
 * accepts a change of its tags, or undefined when it already is in one.
 * Nova (Zed) changes tags only on ACTIVE, PAUSED, SUSPENDED and SHUTOFF
 * servers, so a shelved server is unshelved first.
 */
export function actionBeforeTagUpdate(server: Server): PowerAction | undefined {
  return isShelved(server) ? 'unshelve' : undefined;
}
