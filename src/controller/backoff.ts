/** Settings of a capped exponential backoff with jitter. */
export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds. @default 1000 */
  baseMs?: number;
  /** Upper bound of any delay, in milliseconds. @default 300000 */
  maxMs?: number;
  /**
   * Fraction of the delay that is randomized: 0.2 spreads a 10 s delay over
   * 8 s to 12 s, so many keys that failed together do not retry together.
   * @default 0.2
   */
  jitter?: number;
}

/**
 * Computes the delay before retry number `attempt` (1 for the first retry):
 * baseMs * 2^(attempt-1), capped at maxMs, then spread by +/- jitter. The
 * result never exceeds maxMs and is never negative.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random = Math.random,
): number {
  const baseMs = options.baseMs ?? 1000;
  const maxMs = options.maxMs ?? 300_000;
  const jitter = options.jitter ?? 0.2;
  if (!(baseMs > 0) || !(maxMs >= baseMs)) {
    throw new RangeError(
      `invalid backoff: baseMs must be > 0 and maxMs >= baseMs. Received: baseMs=${baseMs}, maxMs=${maxMs}`,
    );
  }
  if (!(jitter >= 0 && jitter < 1)) {
    throw new RangeError(`invalid backoff jitter: must be in [0, 1). Received: ${jitter}`);
  }

  // Cap the exponent first so large attempt counts do not overflow to Infinity.
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  const nominal = Math.min(baseMs * 2 ** exponent, maxMs);
  const spread = nominal * jitter * (2 * random() - 1);
  return Math.round(Math.min(Math.max(nominal + spread, 0), maxMs));
}

/**
 * A per-subject failure counter that turns consecutive failures into growing
 * delays; reset() after a success starts again at baseMs.
 */
export class Backoff {
  private failures = 0;

  constructor(private readonly options: BackoffOptions = {}) {}

  /** Records one more failure and returns how long to wait before the next try, in milliseconds. */
  next(): number {
    this.failures += 1;
    return backoffDelay(this.failures, this.options);
  }

  /** Number of failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** Forgets the failures, so the next delay is baseMs again. */
  reset(): void {
    this.failures = 0;
  }
}
