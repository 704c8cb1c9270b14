/**
 * The state of one reconcile: the object as last written, the status being
 * built, and the single place where a failure is logged, recorded as an
 * Event and set as conditions.
 */
import {
  ConditionType,
  findCondition,
  setCondition,
  type ConditionStatus,
  type ConditionTypeName,
  type ContainerInstance,
  type ContainerInstanceStatus,
} from '../api/index.js';
import type { Logger } from '../observability/logger.js';
import type { ReconcileFailure } from './failures.js';

/**
 * Writes the status subresource when it differs from object.status and
 * returns the object as stored; the wiring adapts StatusWriter from src/kube.
 */
export interface StatusSink {
  write(
    object: ContainerInstance,
    status: ContainerInstanceStatus,
  ): Promise<{ written: boolean; object: ContainerInstance }>;
}

/** Records Kubernetes Events about an instance; the wiring adapts EventRecorder from src/kube. */
export interface EventSink {
  record(
    object: ContainerInstance,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    note: string,
  ): void;
}

/** Reason of `Reconciling=False` and `Stalled=False` once the server matches the spec. */
export const RECONCILED = 'Reconciled';
/** Reason of `Stalled=False` while the operator makes progress. */
export const PROGRESSING = 'Progressing';

/**
 * One reconcile of one ContainerInstance. Steps change `status` and call
 * the mark methods; {@link ReconcileRun.flush} writes the status when it
 * differs from what the apiserver has.
 */
export class ReconcileRun {
  object: ContainerInstance;
  readonly status: ContainerInstanceStatus;
  readonly uid: string;
  log: Logger;
  /** The step running now, in CamelCase; failures and Events name it as their action. */
  action = 'Reconcile';
  readonly #statusSink: StatusSink;
  readonly #events: EventSink;
  /** Logger with the namespace and name, before any serverID binding. */
  readonly #baseLog: Logger;

  constructor(
    object: ContainerInstance,
    logger: Logger,
    statusSink: StatusSink,
    events: EventSink,
  ) {
    this.object = object;
    this.uid = object.metadata.uid ?? '';
    this.status = structuredClone(object.status ?? {});
    this.status.observedGeneration = object.metadata.generation ?? 0;
    this.#baseLog = logger.child({
      namespace: object.metadata.namespace,
      name: object.metadata.name,
    });
    this.log = object.status?.serverID
      ? this.#baseLog.child({ serverID: object.status.serverID })
      : this.#baseLog;
    this.#statusSink = statusSink;
    this.#events = events;
  }

  /** metadata.generation of the spec this reconcile works on. */
  get generation(): number {
    return this.object.metadata.generation ?? 0;
  }

  /** Records the server this reconcile acts on, in the status and in later log lines. */
  setServerID(serverID: string | undefined): void {
    if (serverID === this.status.serverID) return;
    if (serverID === undefined) delete this.status.serverID;
    else this.status.serverID = serverID;
    this.log = serverID === undefined ? this.#baseLog : this.#baseLog.child({ serverID });
  }

  /** Sets one condition; lastTransitionTime changes only when the status value changes. */
  condition(
    type: ConditionTypeName,
    status: ConditionStatus,
    reason: string,
    message: string,
  ): void {
    this.status.conditions = setCondition(this.status.conditions, {
      type,
      status,
      reason,
      message,
      observedGeneration: this.generation,
    });
  }

  /** Marks the instance as matching its spec: Ready, not Reconciling, not Stalled. */
  markReady(reason: string, message: string): void {
    this.condition(ConditionType.Ready, 'True', reason, message);
    this.condition(ConditionType.Reconciling, 'False', RECONCILED, 'the server matches the spec');
    this.condition(ConditionType.Stalled, 'False', RECONCILED, '');
  }

  /** Marks the instance as being worked on: not Ready, Reconciling with this reason, not Stalled. */
  markProgressing(reason: string, message: string): void {
    this.condition(ConditionType.Ready, 'False', reason, message);
    this.condition(ConditionType.Reconciling, 'True', reason, message);
    this.condition(ConditionType.Stalled, 'False', PROGRESSING, '');
  }

  /** Marks the instance as unable to progress without a change: not Ready, not Reconciling, Stalled. */
  markStalled(reason: string, message: string): void {
    this.condition(ConditionType.Ready, 'False', reason, message);
    this.condition(ConditionType.Reconciling, 'False', reason, message);
    this.condition(ConditionType.Stalled, 'True', reason, message);
  }

  /**
   * Records a failure in one place: a log line (error for stalled, warn for
   * transient), a Warning Event, and the conditions. Stalled sets Ready and
   * Reconciling to False and Stalled to True. Transient keeps Reconciling True
   * with the failure as its reason and leaves Ready as it was, because the
   * server may still run fine while, say, a listing fails.
   */
  fail(failure: ReconcileFailure): void {
    const action = this.action;
    const fields = {
      reason: failure.reason,
      action,
      ...(failure.requestID === undefined ? {} : { requestID: failure.requestID }),
      err: failure,
    };
    if (failure.kind === 'stalled')
      this.log.error(fields, 'reconcile stalled until the spec or a Secret changes');
    else this.log.warn(fields, 'reconcile step failed; retrying with backoff');

    this.#events.record(this.object, 'Warning', failure.reason, action, failure.message);

    if (failure.kind === 'stalled') {
      this.markStalled(failure.reason, failure.message);
      return;
    }
    if (findCondition(this.status.conditions, ConditionType.Ready) === undefined) {
      this.condition(ConditionType.Ready, 'False', failure.reason, failure.message);
    }
    this.condition(ConditionType.Reconciling, 'True', failure.reason, failure.message);
    this.condition(ConditionType.Stalled, 'False', PROGRESSING, '');
  }

  /** Records a Normal or Warning Event about a state change and logs it at info level. */
  event(type: 'Normal' | 'Warning', reason: string, action: string, note: string): void {
    this.log.info({ reason, action }, note);
    this.#events.record(this.object, type, reason, action, note);
  }

  /**
   * Writes the status when it differs from the object's, keeping the
   * returned object for later writes. Throws when the write fails.
   */
  async flush(): Promise<void> {
    const result = await this.#statusSink.write(this.object, this.status);
    if (result.written) this.object = result.object;
  }
}
