/**
 * HTTP transport for OpenStack APIs over undici's fetch: per-attempt timeouts,
 * retries with backoff, typed errors, one debug log line and one observer
 * event per attempt. It handles no tokens, because session.ts adds them.
 */
import { Readable } from 'node:stream';

import type { Logger } from 'pino';
import { Agent, fetch, type Response } from 'undici';

import { AttemptTimer, countingStream, sleep } from './deadline.js';
import {
  classifyStatus,
  describeNetworkError,
  networkErrorCode,
  OpenStackError,
  parseErrorBody,
  type ErrorClass,
  type ServiceType,
} from './errors.js';
import {
  backoffDelay,
  defaultRetryPolicy,
  isIdempotentMethod,
  parseRetryAfter,
  shouldRetryNetworkError,
  shouldRetryStatus,
  type RetryPolicy,
} from './retry.js';

/** One HTTP attempt as seen by a {@link RequestObserver}, for metrics. */
export interface RequestEvent {
  service: ServiceType;
  method: string;
  /** Low-cardinality route template, for example `/servers/{id}/action`. */
  route: string;
  /** HTTP status; absent when the attempt failed before a response. */
  status?: number;
  durationMs: number;
  requestId?: string;
  /** Class of the failure, when the attempt failed. */
  error?: ErrorClass;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  attempt: number;
}

/**
 * Called once per HTTP attempt, after it completes or fails. It must not
 * throw; an exception is logged and otherwise ignored.
 */
export type RequestObserver = (event: RequestEvent) => void;

/** TLS and behaviour settings of a {@link Transport}. */
export interface TransportOptions {
  /** pino logger for the per-request debug line and retry lines. */
  logger?: Logger;
  observer?: RequestObserver;
  retry?: Partial<RetryPolicy>;
  /** Timeout of each attempt, in milliseconds. @default 30000 */
  timeoutMs?: number;
  /** PEM CA bundle that replaces the system store. */
  caCert?: string;
  /** Verify server certificates. @default true */
  verify?: boolean;
  clientCert?: string;
  clientKey?: string;
  /** @default "nova-docker-operator" */
  userAgent?: string;
}

/** One logical request; the transport may send it more than once. */
export interface HttpRequest {
  service: ServiceType;
  method: string;
  url: string;
  /** Route template for logs and metrics; never contains IDs. */
  route: string;
  headers?: Record<string, string>;
  /** JSON body; serialized once and re-sent on retries. */
  json?: unknown;
  /** Streamed body, sent with chunked transfer encoding; such a request is never retried. */
  body?: Readable;
  /** `json` parses the body when there is one; `stream` returns it unread. @default "json" */
  responseType?: 'json' | 'stream';
  /** Override whether retrying after the server saw the request is safe. @default by method */
  idempotent?: boolean;
  /** Attempt timeout; for streamed bodies it bounds inactivity, not the whole upload. 0 disables it. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A successful response. */
export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON body, undefined when empty or when `responseType` is `stream`. */
  body: T;
  /** Unread body, for `responseType: "stream"`. */
  stream?: Readable;
  requestId?: string;
  /** Bytes sent from a streamed request body. */
  bytesSent?: number;
}

const maxErrorBodyBytes = 64 * 1024;

/**
 * Sends requests with retries and maps every failure to an
 * {@link OpenStackError}. Each instance owns one connection pool, so call
 * {@link Transport.close} when the session ends.
 */
export class Transport {
  readonly #agent: Agent;
  readonly #policy: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #logger: Logger | undefined;
  readonly #observer: RequestObserver | undefined;
  readonly #userAgent: string;

  constructor(options: TransportOptions = {}) {
    this.#agent = new Agent({
      // The attempt timer bounds the wait for response headers, including the
      // "no timeout" of timeoutMs 0, so undici's own headers timeout is off.
      // Its body timeout (300 s) still ends a streamed download that stalls.
      headersTimeout: 0,
      connect: {
        ...(options.caCert === undefined ? {} : { ca: options.caCert }),
        ...(options.clientCert === undefined
          ? {}
          : { cert: options.clientCert, key: options.clientKey }),
        rejectUnauthorized: options.verify ?? true,
      },
    });
    this.#policy = { ...defaultRetryPolicy, ...options.retry };
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#logger = options.logger;
    this.#observer = options.observer;
    this.#userAgent = options.userAgent ?? 'nova-docker-operator';
  }

  /**
   * Sends the request, retrying connection errors and 429/502/503/504 with
   * capped exponential backoff and jitter, honouring Retry-After. Resolves on
   * a 2xx or 3xx response; throws {@link OpenStackError} otherwise, or the
   * signal's reason when the caller aborts.
   */
  async request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>> {
    const idempotent =
      request.body === undefined && (request.idempotent ?? isIdempotentMethod(request.method));
    const payload = request.json === undefined ? undefined : JSON.stringify(request.json);

    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt<T>(request, payload, attempt);
      } catch (err) {
        if (!(err instanceof OpenStackError) || request.signal?.aborted) throw err;

        // A streamed body is consumed by the first attempt and cannot be sent again.
        if (request.body !== undefined) throw err;
        const retryable =
          err.status === undefined
            ? shouldRetryNetworkError(err.code, idempotent)
            : shouldRetryStatus(err.status, idempotent);
        if (!retryable || attempt > this.#policy.maxRetries) throw err;
        if (err.retryAfterMs !== undefined && err.retryAfterMs > this.#policy.maxRetryAfterMs)
          throw err;

        const delayMs = backoffDelay(this.#policy, attempt - 1, err.retryAfterMs);
        this.#logger?.info(
          {
            service: request.service,
            method: request.method,
            route: request.route,
            status: err.status,
            code: err.code,
            requestID: err.requestId,
            attempt,
            retryInMs: delayMs,
          },
          'retrying OpenStack request',
        );
        await sleep(delayMs, request.signal);
      }
    }
  }

  /** Closes the connection pool; requests in flight fail. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #attempt<T>(
    request: HttpRequest,
    payload: string | undefined,
    attempt: number,
  ): Promise<HttpResponse<T>> {
    const started = performance.now();
    const path = new URL(request.url).pathname;
    const timeoutMs = request.timeoutMs ?? this.#timeoutMs;
    const timer = new AttemptTimer(timeoutMs, request.signal);
    let status: number | undefined;
    let requestId: string | undefined;
    let bytesSent = 0;
    let failure: unknown;

    const headers: Record<string, string> = {
      'User-Agent': this.#userAgent,
      Accept: 'application/json',
      ...request.headers,
    };
    let body: string | AsyncIterable<Uint8Array> | undefined = payload;
    if (payload !== undefined) headers['Content-Type'] ??= 'application/json';
    if (request.body !== undefined) {
      headers['Content-Type'] ??= 'application/octet-stream';
      body = countingStream(request.body, timer, (bytes) => (bytesSent += bytes));
    }

    try {
      let response: Response;
      try {
        response = await fetch(request.url, {
          method: request.method,
          headers,
          body: body as never,
          signal: timer.signal,
          dispatcher: this.#agent,
          redirect: 'manual',
          ...(request.body === undefined ? {} : { duplex: 'half' }),
        });
      } catch (err) {
        throw this.#networkError(request, path, err, timer);
      }

      status = response.status;
      requestId = readRequestId(response.headers);

      if (status >= 400) {
        const text = await readLimited(response, maxErrorBodyBytes).catch(() => '');
        const parsed = parseErrorBody(text);
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        throw new OpenStackError({
          service: request.service,
          method: request.method,
          path,
          status,
          message: parsed.message || response.statusText || `HTTP ${status}`,
          ...(requestId === undefined ? {} : { requestId }),
          errorClass: classifyStatus(status, parsed.message, parsed.type),
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
      }

      if (request.responseType === 'stream') {
        // The caller reads at its own pace; undici's body timeout bounds a stalled server.
        timer.clear();
        const stream = response.body ? Readable.fromWeb(response.body as never) : Readable.from([]);
        return {
          status,
          headers: response.headers as unknown as Headers,
          body: undefined as T,
          stream,
          ...(requestId === undefined ? {} : { requestId }),
        };
      }

      let text: string;
      try {
        text = await response.text();
      } catch (err) {
        throw this.#networkError(request, path, err, timer);
      }
      let parsed: unknown;
      if (text.trim() !== '') {
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new OpenStackError({
            service: request.service,
            method: request.method,
            path,
            status,
            message: `response is not JSON (${text.length} bytes)`,
            ...(requestId === undefined ? {} : { requestId }),
            errorClass: 'serverError',
          });
        }
      }
      return {
        status,
        headers: response.headers as unknown as Headers,
        body: parsed as T,
        ...(requestId === undefined ? {} : { requestId }),
        ...(request.body === undefined ? {} : { bytesSent }),
      };
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      if (request.responseType === 'stream' && failure === undefined) timer.clear();
      else timer.release();
      this.#report(request, path, attempt, started, status, requestId, failure);
    }
  }

  #networkError(request: HttpRequest, path: string, err: unknown, timer: AttemptTimer): unknown {
    if (request.signal?.aborted) return request.signal.reason;
    const code = timer.timedOut ? 'TIMEOUT' : networkErrorCode(err);
    const message = timer.timedOut
      ? `no response within ${timer.timeoutMs} ms; raise api_timeout in clouds.yaml if the service is slow`
      : describeNetworkError(err);
    return new OpenStackError({
      service: request.service,
      method: request.method,
      path,
      message,
      errorClass: 'network',
      ...(code === undefined ? {} : { code }),
      cause: err,
    });
  }

  #report(
    request: HttpRequest,
    path: string,
    attempt: number,
    started: number,
    status: number | undefined,
    requestId: string | undefined,
    err: unknown,
  ): void {
    const durationMs = Math.round(performance.now() - started);
    let errorClass: ErrorClass | undefined;
    if (err instanceof OpenStackError) errorClass = err.errorClass;
    else if (err !== undefined) errorClass = 'network';
    this.#logger?.debug(
      {
        service: request.service,
        method: request.method,
        route: request.route,
        path,
        status,
        durationMs,
        requestID: requestId,
        attempt,
        errorClass,
      },
      'OpenStack request',
    );
    if (this.#observer === undefined) return;
    try {
      this.#observer({
        service: request.service,
        method: request.method,
        route: request.route,
        ...(status === undefined ? {} : { status }),
        durationMs,
        ...(requestId === undefined ? {} : { requestId }),
        ...(errorClass === undefined ? {} : { error: errorClass }),
        attempt,
      });
    } catch (observerError) {
      this.#logger?.warn({ err: observerError }, 'OpenStack request observer threw; ignoring it');
    }
  }
}

function readRequestId(headers: { get(name: string): string | null }): string | undefined {
  return headers.get('x-openstack-request-id') ?? headers.get('x-compute-request-id') ?? undefined;
}

async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(chunk));
    size += chunk.byteLength;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}
