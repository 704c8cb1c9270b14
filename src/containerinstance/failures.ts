/**
 * The two kinds of reconcile failure and the mapping from every error the
 * reconcile can meet onto them: transient failures retry with backoff,
 * stalled ones wait for a change of the spec or a Secret.
 */
import { CloudConfigError, OpenStackError, OpenStackLookupError } from '../openstack/index.js';

/**
 * `transient`: retrying later can succeed (5xx, 429, connection errors,
 * quota, a conflict with a task in progress). `stalled`: the configuration
 * is wrong (unknown flavor, missing Secret, rejected credentials) and
 * nothing changes until someone edits it.
 */
export type FailureKind = 'transient' | 'stalled';

/**
 * A classified reconcile failure. `reason` is the CamelCase condition and
 * Event reason. The message states what failed, on which value, and what to
 * do next, and never contains secret data.
 */
export class ReconcileFailure extends Error {
  override readonly name = 'ReconcileFailure';
  readonly kind: FailureKind;
  readonly reason: string;
  /** Delay the server asked for (Retry-After), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** OpenStack request ID of the failed call, for log lines. */
  readonly requestID: string | undefined;

  constructor(
    kind: FailureKind,
    reason: string,
    message: string,
    options: { cause?: unknown; retryAfterMs?: number; requestID?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.reason = reason;
    this.retryAfterMs = options.retryAfterMs;
    this.requestID = options.requestID;
  }
}

/** Returns a failure that waits for a change of the spec or a Secret. */
export function stalled(reason: string, message: string, cause?: unknown): ReconcileFailure {
  return new ReconcileFailure('stalled', reason, message, cause === undefined ? {} : { cause });
}

/** Returns a failure that retries with backoff. */
export function transient(reason: string, message: string, cause?: unknown): ReconcileFailure {
  return new ReconcileFailure('transient', reason, message, cause === undefined ? {} : { cause });
}

/** Condition reasons of the image publisher's failure reasons. */
const IMAGE_REASONS: Readonly<Record<string, string>> = {
  invalidReference: 'InvalidImageReference',
  invalidCommand: 'InvalidCommand',
  invalidPullSecret: 'InvalidPullSecret',
  notFound: 'ImageNotFound',
  unauthorized: 'ImagePullUnauthorized',
  registryUnavailable: 'RegistryUnavailable',
  pullFailed: 'ImagePullFailed',
  uploadFailed: 'ImageUploadFailed',
  glanceUnavailable: 'GlanceUnavailable',
  glanceFull: 'GlanceQuotaExceeded',
};

/** Condition reasons of lookup failures, by the looked-up resource. */
const LOOKUP_REASONS: Readonly<Record<string, string>> = {
  flavor: 'FlavorNotFound',
  network: 'NetworkNotFound',
  'security group': 'SecurityGroupNotFound',
};

/**
 * Classifies any error thrown by a reconcile step. `action` names the step
 * for errors whose message does not, e.g. "create server". Never throws.
 */
export function classifyError(err: unknown, action: string): ReconcileFailure {
  if (err instanceof ReconcileFailure) return err;
  if (err instanceof OpenStackLookupError) return classifyLookup(err);
  if (err instanceof OpenStackError) return classifyOpenStack(err, action);
  if (err instanceof CloudConfigError) {
    return stalled('InvalidCloudConfig', `${err.message}; fix the clouds.yaml in the Secret`, err);
  }
  if (isPublishError(err)) {
    const reason = IMAGE_REASONS[err.reason] ?? 'ImagePublishFailed';
    return new ReconcileFailure(err.transient ? 'transient' : 'stalled', reason, err.message, {
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return transient('ReconcileError', `${action} failed: ${message}`, err);
}

function classifyLookup(err: OpenStackLookupError): ReconcileFailure {
  const reason =
    err.errorClass === 'conflict'
      ? 'AmbiguousName'
      : (LOOKUP_REASONS[err.resource] ?? 'ResourceNotFound');
  return stalled(reason, err.message, err);
}

function classifyOpenStack(err: OpenStackError, action: string): ReconcileFailure {
  const message = `${action} failed: ${err.message}`;
  const options = {
    cause: err,
    ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
    ...(err.requestId === undefined ? {} : { requestID: err.requestId }),
  };
  switch (err.errorClass) {
    case 'quota':
      return new ReconcileFailure('transient', 'QuotaExceeded', message, options);
    case 'rateLimited':
      return new ReconcileFailure('transient', 'RateLimited', message, options);
    case 'network':
    case 'serverError':
      return new ReconcileFailure('transient', 'OpenStackUnavailable', message, options);
    // Nova returns 409 when a task is still running on the server, and 404
    // when it vanished between the listing and the call. The next
    // observation shows the new state.
    case 'conflict':
      return new ReconcileFailure('transient', 'ServerBusy', message, options);
    case 'notFound':
      return new ReconcileFailure('transient', 'NotFound', message, options);
    case 'unauthorized':
      return new ReconcileFailure(
        'stalled',
        'AuthenticationFailed',
        `${message}; check the credentials in the cloud Secret`,
        options,
      );
    case 'forbidden':
      return new ReconcileFailure(
        'stalled',
        'Forbidden',
        `${message}; grant the OpenStack user the role this call needs`,
        options,
      );
    case 'badRequest':
      return new ReconcileFailure('stalled', 'InvalidRequest', message, options);
  }
}

/** The shape of the image publisher's errors: a failure reason and whether a retry can help. */
interface PublishErrorShape extends Error {
  reason: string;
  transient: boolean;
}

function isPublishError(err: unknown): err is PublishErrorShape {
  return (
    err instanceof Error &&
    err.name === 'ImagePublishError' &&
    typeof (err as Partial<PublishErrorShape>).reason === 'string' &&
    typeof (err as Partial<PublishErrorShape>).transient === 'boolean'
  );
}
