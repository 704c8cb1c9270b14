/**
 * Outcome of one reconcile, which decides when the key runs next:
 * - `done`: the object matches its spec; run again only when it changes.
 * - `requeueAfter`: success, but look again after delayMs (e.g. a server
 *   still building, or a periodic check).
 * - `error`: a transient failure; retried with per-key exponential backoff,
 *   or after retryAfterMs when that is longer (e.g. an HTTP Retry-After).
 * - `terminal`: invalid configuration that retrying cannot fix (unknown
 *   flavor, missing Secret); retried only slowly, and at once on a change.
 */
export type ReconcileResult =
  | { kind: 'done' }
  | { kind: 'requeueAfter'; delayMs: number }
  | { kind: 'error'; error: unknown; retryAfterMs?: number }
  | { kind: 'terminal'; error: unknown };

/**
 * Reconciles the object of one work queue key. object is the informer's
 * latest copy, or undefined when the object is gone from the cache
 * (deleted). The controller never runs two reconciles of one key at once.
 * A thrown TerminalError counts as `terminal`, any other thrown error as a
 * transient `error`.
 */
export interface Reconciler<T> {
  reconcile(key: string, object: T | undefined): Promise<ReconcileResult>;
}

/** A reconciler given as a plain function. */
export type ReconcileFunction<T> = (key: string, object: T | undefined) => Promise<ReconcileResult>;

/** An error that retrying cannot fix; throw it from a reconcile to stop the fast retries. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/** Returns the result "converged; nothing to do until the object changes". */
export function done(): ReconcileResult {
  return { kind: 'done' };
}

/** Returns the result "succeeded; reconcile again after delayMs". Throws on a negative or non-finite delay. */
export function requeueAfter(delayMs: number): ReconcileResult {
  if (!(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new RangeError(`requeueAfter needs a finite delay >= 0 ms. Received: ${delayMs}`);
  }
  return { kind: 'requeueAfter', delayMs };
}

/** Returns the result "failed for a reason that may pass; retry with backoff". */
export function transientError(error: unknown, retryAfterMs?: number): ReconcileResult {
  return retryAfterMs === undefined
    ? { kind: 'error', error }
    : { kind: 'error', error, retryAfterMs };
}

/** Returns the result "failed for a reason retrying cannot fix". */
export function terminalError(error: unknown): ReconcileResult {
  return { kind: 'terminal', error };
}
