/**
 * The server actions the compute manager performs, and how the dev cloud's
 * vm_states, task states and power states correspond to container states.
 */
import type { PowerState, TaskState, VmState } from '../model.js';
import type { ContainerState } from './driver.js';

/** A power, shelve or rebuild action the Nova API accepted. */
export type ServerAction =
  | { kind: 'start' }
  | { kind: 'stop' }
  | { kind: 'pause' }
  | { kind: 'unpause' }
  | { kind: 'suspend' }
  | { kind: 'resume' }
  | { kind: 'shelve' }
  | { kind: 'shelveOffload' }
  | { kind: 'unshelve' }
  | { kind: 'reboot'; hard: boolean }
  | { kind: 'rebuild' };

/** The task state the API sets when it accepts each action. */
export const taskForAction: Record<ServerAction['kind'], TaskState> = {
  start: 'powering-on',
  stop: 'powering-off',
  pause: 'pausing',
  unpause: 'unpausing',
  suspend: 'suspending',
  resume: 'resuming',
  shelve: 'shelving',
  shelveOffload: 'shelving_offloading',
  unshelve: 'unshelving',
  reboot: 'rebooting',
  rebuild: 'rebuilding',
};

/**
 * The action that finishes an operation a restart cut short, by its task
 * state. Each of these actions first inspects the container, so running one
 * again after part of it happened is safe. A server in `spawning` is only
 * listed for the unshelve, because a build keeps vm_state building and
 * resumes through the build path.
 */
export const resumedTasks: Partial<
  Record<Exclude<TaskState, null>, 'suspend' | 'resume' | 'shelve' | 'shelveOffload' | 'unshelve'>
> = {
  suspending: 'suspend',
  resuming: 'resume',
  shelving: 'shelve',
  shelving_offloading: 'shelveOffload',
  unshelving: 'unshelve',
  spawning: 'unshelve',
};

/**
 * The container state that matches each vm_state. A suspended server's
 * container is paused, and a shelved one's is stopped (or, once offloaded,
 * may be gone), so engine events and restarts leave those vm_states alone.
 */
export const expectedContainerState: Partial<Record<VmState, ContainerState>> = {
  active: 'running',
  paused: 'paused',
  suspended: 'paused',
  stopped: 'stopped',
  shelved: 'stopped',
  shelved_offloaded: 'stopped',
};

/** The vm_state and power state a server takes when its container is found in a state that no API request set. */
export const serverStateForContainer: Record<
  Exclude<ContainerState, 'missing'>,
  { vmState: VmState; powerState: PowerState }
> = {
  running: { vmState: 'active', powerState: 1 },
  paused: { vmState: 'paused', powerState: 3 },
  stopped: { vmState: 'stopped', powerState: 4 },
};
