/**
 * When a failed OpenStack request is retried, and how long to wait first.
 */

/** Retry settings of a session; every field has a default. */
export interface RetryPolicy {
  /** Retries after the first attempt. @default 3 */
  maxRetries: number;
  /** Delay before the first retry, doubled for each further one. @default 500 */
  baseDelayMs: number;
  /** Upper bound of the exponential delay. @default 15000 */
  maxDelayMs: number;
  /**
   * Longest Retry-After the client waits for itself; a longer one fails the
   * call at once with class `rateLimited` and `retryAfterMs`, so the caller can
   * requeue instead of holding a worker. @default 60000
   */
  maxRetryAfterMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 60_000,
};

/** HTTP statuses that mean "try again": bad gateway, unavailable, gateway timeout, rate limited. */
export const retryableStatuses = new Set([429, 502, 503, 504]);

/**
 * Connection errors raised before any byte of the request left this process,
 * so even a POST can be sent again: the address did not resolve, or the
 * connection was refused or never completed.
 */
const notSentCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Connection errors after which the request may or may not have reached the server. */
const uncertainCodes = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TIMEOUT',
]);

/** Methods that HTTP defines as idempotent, safe to send twice. */
const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Returns whether a connection error proves the request never reached the server. */
export function neverReachedServer(code: string | undefined): boolean {
  return code !== undefined && notSentCodes.has(code);
}

/**
 * Decides whether to retry after a connection error. Idempotent requests retry
 * on any known connection error; others only when the error proves the
 * request was never sent.
 */
export function shouldRetryNetworkError(code: string | undefined, idempotent: boolean): boolean {
  if (neverReachedServer(code)) return true;
  return idempotent && code !== undefined && uncertainCodes.has(code);
}

/**
 * Decides whether to retry after an HTTP status. A response proves the server
 * received the request, so non-idempotent requests are never retried on one.
 */
export function shouldRetryStatus(status: number, idempotent: boolean): boolean {
  return idempotent && retryableStatuses.has(status);
}

/** Returns whether a method is idempotent by HTTP's definition. */
export function isIdempotentMethod(method: string): boolean {
  return idempotentMethods.has(method.toUpperCase());
}

/**
 * Returns the delay before retry number `retry` (0 for the first retry):
 * "full jitter", a uniform draw between 0 and min(maxDelay, base * 2^retry),
 * so clients that failed together do not retry together. A Retry-After
 * delay is a floor: the result is never shorter.
 */
export function backoffDelay(
  policy: RetryPolicy,
  retry: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const jittered = Math.round(random() * ceiling);
  if (retryAfterMs === undefined) return jittered;

  // Up to 10 % extra spreads clients that got the same Retry-After.
  return retryAfterMs + Math.round(random() * retryAfterMs * 0.1);
}

/**
 * Parses a Retry-After header (seconds or an HTTP date) into milliseconds
 * from now. Returns undefined for a missing or unreadable value.
 */
export function parseRetryAfter(
  header: string | null,
  now: number = Date.now(),
): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();

  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);

  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
