/**
 * Reporting an observed server in the status: phase, addresses, power
 * state, ServerReady, and the Nova fault of a server in ERROR.
 */
import { ConditionType, formatKubernetesTime, type ServerFault } from '../api/index.js';
import type { Server } from '../openstack/index.js';
import type { InstanceMemory } from './instance-memory.js';
import type { ReconcileRun } from './reconcile-run.js';
import { isTransitional, matchesPowerState, observedPowerState, phaseOf } from './server-state.js';

/**
 * Copies what Nova reports about the server into the status and sets
 * ServerReady. In ERROR it copies the fault and records a Warning Event once
 * per fault; when the server leaves ERROR it removes the fault and records
 * that it recovered.
 */
export function reportServer(run: ReconcileRun, memory: InstanceMemory, server: Server): void {
  const { status } = run;
  run.setServerID(server.id);
  status.phase = phaseOf(server);
  status.addresses = server.addresses.map(({ network, ip, version }) => ({ network, ip, version }));
  const powerState = observedPowerState(server);
  if (powerState === undefined) delete status.powerState;
  else status.powerState = powerState;

  const requested = run.object.spec.powerState ?? 'Running';
  const settled = !isTransitional(server);
  if (settled && matchesPowerState(server, requested)) {
    run.condition(
      ConditionType.ServerReady,
      'True',
      `Server${pascal(server.status)}`,
      `server ${server.id} is ${server.status}`,
    );
  } else {
    const task = server.taskState ? ` (task ${server.taskState})` : '';
    run.condition(
      ConditionType.ServerReady,
      'False',
      `Server${pascal(server.status)}`,
      `server ${server.id} is ${server.status}${task}; requested power state ${requested}`,
    );
  }

  if (server.status === 'ERROR') {
    const fault = copyFault(server);
    status.fault = fault;
    const faultKey = `${server.id}|${fault.code ?? ''}|${fault.message ?? ''}|${fault.time ?? ''}`;
    if (memory.reportedFault !== faultKey) {
      memory.reportedFault = faultKey;
      run.event(
        'Warning',
        'ServerError',
        'ObserveServer',
        `server ${server.id} is in ERROR: ${fault.message ?? 'Nova recorded no fault'}${fault.code === undefined ? '' : ` (code ${fault.code})`}`,
      );
    }
    return;
  }

  if (status.fault !== undefined || memory.reportedFault !== undefined) {
    delete status.fault;
    memory.reportedFault = undefined;
    run.event(
      'Normal',
      'ServerRecovered',
      'ObserveServer',
      `server ${server.id} left ERROR and is ${server.status}`,
    );
  }
}

/** Returns the status copy of the server's fault; an ERROR server without one gets an explanatory message. */
function copyFault(server: Server): ServerFault {
  const fault: ServerFault = {};
  if (server.fault === undefined) {
    fault.message = 'Nova reports ERROR without a fault; see the compute service logs';
    return fault;
  }
  if (Number.isFinite(server.fault.code)) fault.code = server.fault.code;
  fault.message = server.fault.message;
  const created = server.fault.created === undefined ? NaN : Date.parse(server.fault.created);
  if (!Number.isNaN(created)) fault.time = formatKubernetesTime(new Date(created));
  return fault;
}

/** Turns a Nova status such as SOFT_DELETED into a condition reason part, SoftDeleted. */
export function pascal(status: string): string {
  return status
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
