/**
 * Why a publish failed, in terms the reconciler acts on.
 *
 * - `invalidReference`, `invalidCommand`, `invalidPullSecret`: the spec or a
 *   Secret is wrong; nothing changes until someone edits it.
 * - `notFound`: the registry has no such repository, tag or digest.
 * - `unauthorized`: the registry rejected the credentials, or there were none.
 * - `registryUnavailable`: the registry could not be reached or answered 429/5xx.
 * - `pullFailed`: the Docker Engine failed to pull after the registry resolved
 *   the reference.
 * - `uploadFailed`: `docker save` or the Glance upload failed midway.
 * - `glanceUnavailable`: a Glance lookup or image create failed for a reason
 *   other than quota (connection error, 5xx, unexpected answer).
 * - `glanceFull`: Glance rejected the image for quota or storage space.
 */
export type ImagePublishReason =
  | 'invalidReference'
  | 'invalidCommand'
  | 'invalidPullSecret'
  | 'notFound'
  | 'unauthorized'
  | 'registryUnavailable'
  | 'pullFailed'
  | 'uploadFailed'
  | 'glanceUnavailable'
  | 'glanceFull';

/** Reasons that a later retry can fix without anyone changing the spec or a Secret. */
const transientReasons: ReadonlySet<ImagePublishReason> = new Set([
  'registryUnavailable',
  'pullFailed',
  'uploadFailed',
  'glanceUnavailable',
  'glanceFull',
]);

/** Context attached to an {@link ImagePublishError}; never contains credentials. */
export interface ImagePublishErrorDetails {
  /** The image reference as the caller wrote it. */
  reference?: string;
  /** Registry host, e.g. `docker.io` or `127.0.0.1:5000`. */
  registry?: string;
  /** HTTP status from the registry, the Docker Engine or Glance, when one exists. */
  statusCode?: number;
  cause?: unknown;
}

/**
 * The one error type the image publisher throws. `reason` classifies the
 * failure; `transient` signals to the reconciler whether a retry with backoff can
 * succeed (true) or whether it must wait for a spec or Secret change (false).
 */
export class ImagePublishError extends Error {
  override readonly name = 'ImagePublishError';
  readonly reason: ImagePublishReason;
  readonly transient: boolean;
  readonly reference: string | undefined;
  readonly registry: string | undefined;
  readonly statusCode: number | undefined;

  constructor(reason: ImagePublishReason, message: string, details: ImagePublishErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = reason;
    this.transient = transientReasons.has(reason);
    this.reference = details.reference;
    this.registry = details.registry;
    this.statusCode = details.statusCode;
  }
}

/** Returns whether err is an {@link ImagePublishError}, optionally with the given reason. */
export function isImagePublishError(
  err: unknown,
  reason?: ImagePublishReason,
): err is ImagePublishError {
  return err instanceof ImagePublishError && (reason === undefined || err.reason === reason);
}

/** Returns the message of any thrown value, for log lines and wrapped errors. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
