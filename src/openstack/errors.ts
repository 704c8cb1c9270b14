/**
 * Typed errors for every OpenStack call, with the class a caller branches on
 * (retry, stall, treat as absent) and the facts an SRE needs in a log line.
 */

/** The service a request went to; `identity` is Keystone. */
export type ServiceType = 'identity' | 'compute' | 'image' | 'network';

/**
 * Kind of failure, for callers to branch on. `quota` covers Nova and Glance 413 or 403
 * "Quota exceeded" and Neutron 409 OverQuota; `network` covers connection
 * errors and timeouts, where no HTTP status exists.
 */
export type ErrorClass =
  | 'notFound'
  | 'conflict'
  | 'badRequest'
  | 'quota'
  | 'rateLimited'
  | 'unauthorized'
  | 'forbidden'
  | 'serverError'
  | 'network';

/** Fields of an {@link OpenStackError}; `status` is absent for network failures. */
export interface OpenStackErrorDetails {
  service: ServiceType;
  method: string;
  /** URL path of the request, without the query string. */
  path: string;
  status?: number;
  /** The error message from the response body, or the connection error text. */
  message: string;
  requestId?: string;
  errorClass: ErrorClass;
  /** Delay the server asked for with Retry-After, in milliseconds. */
  retryAfterMs?: number;
  /** Node or undici error code for network failures, for example ECONNRESET or TIMEOUT. */
  code?: string;
  cause?: unknown;
}

/**
 * An OpenStack call that failed. The message names the service, method, path,
 * status and request ID, and keeps the service's own error text. It never
 * contains a token, password or request body.
 */
export class OpenStackError extends Error {
  readonly service: ServiceType;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  /** The service's error message alone, without the request summary. */
  readonly serviceMessage: string;
  readonly requestId: string | undefined;
  readonly errorClass: ErrorClass;
  readonly retryAfterMs: number | undefined;
  readonly code: string | undefined;

  constructor(details: OpenStackErrorDetails) {
    super(
      formatMessage(details),
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = 'OpenStackError';
    this.service = details.service;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.serviceMessage = details.message;
    this.requestId = details.requestId;
    this.errorClass = details.errorClass;
    this.retryAfterMs = details.retryAfterMs;
    this.code = details.code;
  }

  /**
   * Whether retrying later can succeed without a change of configuration:
   * network failures, server errors, rate limits and quota (which frees up
   * when other servers or images go away).
   */
  get transient(): boolean {
    return ['network', 'serverError', 'rateLimited', 'quota'].includes(this.errorClass);
  }

  /** Fields for a pino log line, without the stack. */
  toLog(): Record<string, unknown> {
    return {
      service: this.service,
      method: this.method,
      path: this.path,
      status: this.status,
      requestID: this.requestId,
      errorClass: this.errorClass,
      code: this.code,
      message: this.serviceMessage,
    };
  }
}

/**
 * A lookup by name or ID that found no match (class `notFound`) or several
 * (class `conflict`). The message lists the names that do exist, so the user
 * can correct the reference.
 */
export class OpenStackLookupError extends OpenStackError {
  /** The kind of resource looked up, for example `flavor`. */
  readonly resource: string;
  /** The name or ID that was looked up. */
  readonly reference: string;
  /** Names (or IDs where unnamed) of the resources that exist. */
  readonly available: string[];

  constructor(options: {
    service: ServiceType;
    path: string;
    resource: string;
    reference: string;
    available: string[];
    matches?: string[];
    cloud: string;
    region?: string;
  }) {
    const where =
      `cloud "${options.cloud}"` + (options.region ? ` (region ${options.region})` : '');
    const ambiguous = (options.matches?.length ?? 0) > 1;
    const message = ambiguous
      ? `${options.resource} "${options.reference}" is ambiguous in ${where}: ` +
        `${options.matches!.length} match (IDs ${options.matches!.join(', ')}); refer to it by ID`
      : `${options.resource} "${options.reference}" not found in ${where}; ` +
        (options.available.length > 0
          ? `use one of: ${listForMessage(options.available)}`
          : `no ${options.resource} is visible to this project`);
    super({
      service: options.service,
      method: 'GET',
      path: options.path,
      message,
      errorClass: ambiguous ? 'conflict' : 'notFound',
    });
    this.name = 'OpenStackLookupError';
    this.message = message;
    this.resource = options.resource;
    this.reference = options.reference;
    this.available = options.available;
  }
}

/** Returns whether err is an {@link OpenStackError} of the given class. */
export function isErrorClass(err: unknown, errorClass: ErrorClass): err is OpenStackError {
  return err instanceof OpenStackError && err.errorClass === errorClass;
}

function formatMessage(details: OpenStackErrorDetails): string {
  const status =
    details.status === undefined ? (details.code ?? 'network error') : String(details.status);
  const requestId = details.requestId ? ` [request ${details.requestId}]` : '';
  return `${details.service} ${details.method} ${details.path} failed (${status}, ${details.errorClass})${requestId}: ${details.message}`;
}

function listForMessage(names: string[]): string {
  const firstNames = names.slice(0, 20).join(', ');
  return names.length > 20 ? `${firstNames} and ${names.length - 20} more` : firstNames;
}

/**
 * Extracts the human-readable message from an OpenStack error body. Nova wraps
 * it as `{"badRequest": {"message": ...}}`, Keystone as `{"error": {...}}`,
 * Neutron as `{"NeutronError": {"type", "message"}}`, and Glance returns a
 * plain-text or HTML page.
 */
export function parseErrorBody(text: string): { message: string; type?: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { message: '' };

  try {
    const body = JSON.parse(trimmed) as unknown;
    const found = findMessage(body);
    if (found) return { ...found, message: omitEchoedValue(found.message) };
  } catch {
    // Not JSON: Glance and some proxies return text or HTML.
  }

  return { message: plainText(trimmed) };
}

/**
 * Replaces the request value that Nova's schema validation echoes
 * ("Invalid input for field/attribute server. Value: {...}. <reason>") with
 * "[omitted]". The value is a Python repr of part of the request body, which
 * carries server metadata (container environment variables, possibly
 * secrets) and must not reach logs or status conditions. The reason stays.
 */
export function omitEchoedValue(message: string): string {
  const marker = 'Value: ';
  const start = message.indexOf(marker);
  if (!message.startsWith('Invalid input for field/attribute') || start < 0) return message;

  const end = endOfPythonRepr(message, start + marker.length);
  if (end < 0) return `${message.slice(0, start)}${marker}[omitted]`;
  return `${message.slice(0, start)}${marker}[omitted]${message.slice(end)}`;
}

/** Returns the index of the ". " that ends the Python repr starting at `from`, or -1. */
function endOfPythonRepr(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const char = text[i]!;
    if (char === "'" || char === '"') {
      // Skip the quoted string, honouring backslash escapes.
      i++;
      while (i < text.length && text[i] !== char) i += text[i] === '\\' ? 2 : 1;
      if (i >= text.length) return -1;
    } else if ('{[('.includes(char)) {
      depth++;
    } else if ('}])'.includes(char)) {
      depth--;
    } else if (depth === 0 && char === '.' && text[i + 1] === ' ') {
      return i;
    }
  }
  return -1;
}

function findMessage(body: unknown): { message: string; type?: string } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;

  if (typeof record.message === 'string') {
    return {
      message: record.message,
      ...(typeof record.type === 'string' ? { type: record.type } : {}),
    };
  }
  if (typeof record.faultstring === 'string') return { message: record.faultstring };
  if (typeof record.detail === 'string' && record.detail !== '') return { message: record.detail };

  // Nova, Keystone and Neutron put the fault one level down under a key that
  // names it (badRequest, itemNotFound, error, NeutronError, ...).
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'object' && value !== null) {
      const inner = value as Record<string, unknown>;
      if (typeof inner.message === 'string') {
        const type = typeof inner.type === 'string' ? inner.type : key;
        return { message: inner.message, type };
      }
    }
  }
  return undefined;
}

function plainText(text: string): string {
  const withoutTags = text
    .replace(/<head>[\s\S]*?<\/head>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return withoutTags.length > 500 ? `${withoutTags.slice(0, 500)}...` : withoutTags;
}

/**
 * Maps a failed response to its class. Quota is recognised by status and by the
 * message or type, because Nova and Glance use 403 and 413 and Neutron uses 409
 * for it, and each of those statuses also has non-quota meanings.
 */
export function classifyStatus(status: number, message: string, type?: string): ErrorClass {
  const quotaText = /quota exceeded|over ?quota|exceeds.*quota|quota.*exceed/i.test(message);
  if (type === 'OverQuota' || (quotaText && [403, 409, 413].includes(status))) return 'quota';
  if (status === 413) {
    // Nova returned over-limit as 413 before it switched to 403.
    return type === 'overLimit' || /limit/i.test(message) ? 'quota' : 'badRequest';
  }

  switch (status) {
    case 400:
    case 405:
    case 406:
    case 415:
    case 422:
      return 'badRequest';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
    case 410:
      return 'notFound';
    case 409:
      return 'conflict';
    case 429:
      return 'rateLimited';
    default:
      return status >= 500 ? 'serverError' : 'badRequest';
  }
}

/** Finds the most specific error code in an undici error and its causes. */
export function networkErrorCode(err: unknown): string | undefined {
  let fallback: string | undefined;
  for (let current: unknown = err, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (!code.startsWith('UND_ERR') || code === 'UND_ERR_CONNECT_TIMEOUT') return code;
      fallback ??= code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return fallback;
}

/** Joins the messages of an error and its causes, for network failures. */
export function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = err, depth = 0; current && depth < 5; depth++) {
    if (current instanceof Error && current.message && !parts.includes(current.message))
      parts.push(current.message);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(': ') || String(err);
}
