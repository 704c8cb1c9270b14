import { ApiException } from '@kubernetes/client-node';

/** The parts of a Kubernetes Status error body that callers use. */
export interface ApiErrorDetails {
  /** HTTP status code, or undefined when no response arrived (connection error). */
  code: number | undefined;
  /** Machine-readable reason from the Status body, e.g. "Conflict" or "NotFound". */
  reason: string | undefined;
  /** The API server's message, or the error's own message when there is no Status body. */
  message: string;
}

/**
 * Extracts the HTTP code, Status reason and message from an error thrown by
 * a @kubernetes/client-node call. Never throws; unknown values become a
 * message-only result.
 */
export function apiErrorDetails(err: unknown): ApiErrorDetails {
  if (err instanceof ApiException) {
    const status = parseStatusBody(err.body);
    return {
      code: err.code,
      reason: status?.reason,
      message:
        status?.message ??
        (typeof err.body === 'string' && err.body ? err.body : `HTTP ${err.code}`),
    };
  }
  const withCode = err as { statusCode?: unknown; code?: unknown; message?: unknown } | undefined;
  const code = typeof withCode?.statusCode === 'number' ? withCode.statusCode : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return { code, reason: undefined, message };
}

function parseStatusBody(body: unknown): { reason?: string; message?: string } | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value && typeof value === 'object') {
    const status = value as { reason?: unknown; message?: unknown };
    return {
      reason: typeof status.reason === 'string' ? status.reason : undefined,
      message: typeof status.message === 'string' ? status.message : undefined,
    };
  }
  return undefined;
}

/**
 * Returns whether the error, or an error in its `cause` chain, is an API
 * response with this HTTP status code.
 */
export function hasStatusCode(err: unknown, code: number): boolean {
  for (let current = err, depth = 0; current !== undefined && depth < 8; depth += 1) {
    if (apiErrorDetails(current).code === code) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/** Returns whether the API server returned 404 Not Found. */
export function isNotFound(err: unknown): boolean {
  return hasStatusCode(err, 404);
}

/** Returns whether the API server rejected a write because of a stale resourceVersion or an existing name (409). */
export function isConflict(err: unknown): boolean {
  return hasStatusCode(err, 409);
}

/** Formats an API error as `HTTP <code> <reason>: <message>` for logs and wrapped errors. */
export function describeApiError(err: unknown): string {
  const details = apiErrorDetails(err);
  if (details.code === undefined) return details.message;
  return `HTTP ${details.code}${details.reason ? ` ${details.reason}` : ''}: ${details.message}`;
}
