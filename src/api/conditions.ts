import type { Condition, ConditionStatus } from './types.js';

/** Condition types of a ContainerInstance. */
export const ConditionType = {
  /** The server runs the requested image in the requested power state. */
  Ready: 'Ready',
  /** kstatus: the operator is working towards the spec (True while it makes progress). */
  Reconciling: 'Reconciling',
  /** kstatus: the operator cannot make progress without a change, e.g. an unknown flavor. */
  Stalled: 'Stalled',
  /** The image is in Glance with the digest the spec resolves to. */
  ImagePublished: 'ImagePublished',
  /** The Nova server exists and is ACTIVE (or in the requested stopped or paused state). */
  ServerReady: 'ServerReady',
} as const;

/** One of the values of {@link ConditionType}. */
export type ConditionTypeName = (typeof ConditionType)[keyof typeof ConditionType];

/** All condition types, in the order the operator writes them. */
export const CONDITION_TYPES: readonly ConditionTypeName[] = Object.values(ConditionType);

/** Fields a caller sets on a condition; setCondition derives lastTransitionTime. */
export interface ConditionUpdate {
  type: ConditionTypeName;
  status: ConditionStatus;
  reason: string;
  message: string;
  /** metadata.generation the condition was computed from. */
  observedGeneration?: number;
}

/** Pattern the apiserver enforces on condition reasons (metav1.Condition). */
export const REASON_PATTERN = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** Maximum condition message length the apiserver accepts (metav1.Condition). */
export const MESSAGE_MAX_LENGTH = 32768;

const TRUNCATION_MARK = ' [truncated]';

/** Formats a time the way Kubernetes serializes metav1.Time: RFC 3339 in UTC, whole seconds. */
export function formatKubernetesTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Returns the condition of this type, or undefined when the list has none. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/** Returns whether the condition of this type exists and has status True. */
export function isConditionTrue(
  conditions: readonly Condition[] | undefined,
  type: string,
): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * Returns a new condition list with the update applied. lastTransitionTime is
 * `now` when the condition is new or its status changes, and is kept when the
 * status stays the same, so it records when the status last flipped rather
 * than when the operator last looked. Other conditions keep their order.
 *
 * Messages longer than the apiserver limit are cut and marked, so a long cloud
 * error cannot make the whole status write fail. Throws on a reason the
 * apiserver would reject, because that is a programming error.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date = new Date(),
): Condition[] {
  if (!REASON_PATTERN.test(update.reason) || update.reason.length > 1024) {
    throw new Error(
      `invalid condition reason ${JSON.stringify(update.reason)} for ${update.type}: use 1 to 1024 characters of CamelCase (letters, digits, _ , :), starting with a letter`,
    );
  }

  const existing = findCondition(conditions, update.type);
  const lastTransitionTime =
    existing && existing.status === update.status
      ? existing.lastTransitionTime
      : formatKubernetesTime(now);
  const next: Condition = {
    type: update.type,
    status: update.status,
    ...(update.observedGeneration !== undefined
      ? { observedGeneration: update.observedGeneration }
      : {}),
    lastTransitionTime,
    reason: update.reason,
    message: truncateMessage(update.message),
  };

  if (!existing) return [...(conditions ?? []), next];
  return (conditions ?? []).map((condition) => (condition.type === update.type ? next : condition));
}

/** Returns a new condition list without the condition of this type. */
export function removeCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}

/**
 * Returns whether two condition lists contain the same conditions: same types,
 * statuses, reasons, messages, generations and transition times, in any
 * order. Callers use it to skip status writes that would change nothing.
 */
export function conditionsEqual(
  a: readonly Condition[] | undefined,
  b: readonly Condition[] | undefined,
): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return false;
  return left.every((condition) => {
    const other = findCondition(right, condition.type);
    return (
      other !== undefined &&
      other.status === condition.status &&
      other.reason === condition.reason &&
      other.message === condition.message &&
      other.observedGeneration === condition.observedGeneration &&
      other.lastTransitionTime === condition.lastTransitionTime
    );
  });
}

function truncateMessage(message: string): string {
  if (message.length <= MESSAGE_MAX_LENGTH) return message;
  return message.slice(0, MESSAGE_MAX_LENGTH - TRUNCATION_MARK.length) + TRUNCATION_MARK;
}
