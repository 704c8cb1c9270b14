/**
 * An authenticated session on one cloud: it owns the token, re-authenticates
 * before expiry and once on a 401 (shared by all requests in flight), finds
 * service endpoints and sends requests through the transport.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

import type { Logger } from 'pino';

import { issueToken, type Token } from './auth.js';
import { selectEndpoint, versionedBaseUrl } from './catalog.js';
import type { CloudConfig } from './config.js';
import { OpenStackError, type ServiceType } from './errors.js';
import type { RetryPolicy } from './retry.js';
import { Secret } from './secret.js';
import { Transport, type HttpResponse, type RequestObserver } from './transport.js';

/** Options shared by every session a caller opens. */
export interface SessionOptions {
  /** pino logger; requests log at debug level, retries and re-authentication at info. */
  logger?: Logger;
  /** Called once per HTTP attempt, for metrics. */
  observer?: RequestObserver;
  retry?: Partial<RetryPolicy>;
  /** Timeout of each attempt in milliseconds; clouds.yaml `api_timeout` wins. @default 30000 */
  timeoutMs?: number;
  /**
   * Re-authenticate this long before the token expires (or at half its
   * lifetime, whichever is sooner). @default 120000
   */
  reauthMarginMs?: number;
  /** @default "nova-docker-operator" */
  userAgent?: string;
}

/** Options every service call accepts. */
export interface CallOptions {
  /** Aborts the call; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Attempt timeout of this call in milliseconds, replacing the session's. For
   * a streamed upload it bounds inactivity. 0 disables it, for example for an
   * upload whose source can be silent for minutes.
   */
  timeoutMs?: number;
}

/** Returns the request fields that carry a call's options. */
export function callRequestOptions(
  options: CallOptions,
): Pick<ServiceRequest, 'signal' | 'timeoutMs'> {
  return {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
}

/** A request to a service, relative to its versioned endpoint. */
export interface ServiceRequest {
  method: string;
  /** Path below the versioned endpoint (`/servers/detail`), or an absolute URL. */
  path: string;
  /** Route template for logs and metrics, for example `/servers/{id}`. */
  route: string;
  query?: Record<string, string | string[] | undefined>;
  headers?: Record<string, string>;
  json?: unknown;
  body?: Readable;
  responseType?: 'json' | 'stream';
  idempotent?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * An authenticated session. Requests re-authenticate transparently; a request
 * that gets 401 with a fresh token fails with class `unauthorized`.
 */
export class Session {
  readonly cloudName: string;
  readonly regionName: string | undefined;
  /** Hash of the resolved configuration, secrets included; a rotated credential changes it. */
  readonly configHash: string;

  readonly #config: CloudConfig;
  readonly #transport: Transport;
  readonly #logger: Logger | undefined;
  readonly #reauthMarginMs: number;
  readonly #endpoints = new Map<ServiceType, string>();
  #token: Token | undefined;
  #pending: Promise<Token> | undefined;
  #authCount = 0;

  constructor(config: CloudConfig, options: SessionOptions = {}) {
    this.cloudName = config.cloudName;
    this.regionName = config.regionName;
    this.configHash = hashConfig(config);
    this.#config = config;
    this.#logger = options.logger?.child({ cloud: config.cloudName });
    this.#reauthMarginMs = options.reauthMarginMs ?? 120_000;
    this.#transport = new Transport({
      ...(this.#logger === undefined ? {} : { logger: this.#logger }),
      ...(options.observer === undefined ? {} : { observer: options.observer }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      timeoutMs: config.timeoutMs ?? options.timeoutMs ?? 30_000,
      verify: config.verify,
      ...(config.caCert === undefined ? {} : { caCert: config.caCert }),
      ...(config.clientCert === undefined
        ? {}
        : { clientCert: config.clientCert, clientKey: config.clientKey! }),
      ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
    });
  }

  /** Number of tokens issued so far; tests use it to count re-authentications. */
  get authCount(): number {
    return this.#authCount;
  }

  /** Returns a token valid for at least the re-auth margin, issuing one if needed. */
  async token(signal?: AbortSignal): Promise<Token> {
    if (this.#pending) return untilAborted(this.#pending, signal);
    if (this.#token && Date.now() < refreshAt(this.#token, this.#reauthMarginMs))
      return this.#token;
    return this.#authenticate(signal, this.#token ? 'token near expiry' : 'first request');
  }

  /** Returns the project ID of the token's scope; throws when the token has none. */
  async projectId(signal?: AbortSignal): Promise<string> {
    const token = await this.token(signal);
    if (token.projectId === undefined) {
      throw new OpenStackError({
        service: 'identity',
        method: 'POST',
        path: '/v3/auth/tokens',
        message: `the token of cloud "${this.cloudName}" has no project scope; set auth.project_name or auth.project_id`,
        errorClass: 'badRequest',
      });
    }
    return token.projectId;
  }

  /**
   * Returns the versioned base URL of a service: the endpoint override from
   * clouds.yaml, else the catalog entry for the configured interface and
   * region. Throws {@link OpenStackError} when the catalog has no match.
   */
  async endpoint(service: ServiceType, signal?: AbortSignal): Promise<string> {
    const cached = this.#endpoints.get(service);
    if (cached !== undefined) return cached;

    const token = await this.token(signal);
    const override = this.#config.endpointOverrides[service];
    const raw =
      override !== undefined
        ? substituteProjectId(override, token.projectId)
        : selectEndpoint(token.catalog, {
            service,
            interface: this.#config.interface,
            cloudName: this.cloudName,
            ...(this.regionName === undefined ? {} : { regionName: this.regionName }),
          });
    const url = versionedBaseUrl(service, raw);
    this.#endpoints.set(service, url);
    return url;
  }

  /**
   * Sends an authenticated request to a service. On a 401 it re-authenticates
   * once (sharing one re-authentication with every other request that got the
   * same 401) and resends, except for a streamed body, which cannot be resent.
   */
  async request<T = unknown>(
    service: ServiceType,
    request: ServiceRequest,
  ): Promise<HttpResponse<T>> {
    const url = await this.#url(service, request);
    let token = await this.token(request.signal);

    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#transport.request<T>({
          service,
          method: request.method,
          url,
          route: request.route,
          headers: { ...request.headers, 'X-Auth-Token': token.value.reveal() },
          ...(request.json === undefined ? {} : { json: request.json }),
          ...(request.body === undefined ? {} : { body: request.body }),
          ...(request.responseType === undefined ? {} : { responseType: request.responseType }),
          ...(request.idempotent === undefined ? {} : { idempotent: request.idempotent }),
          ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
          ...(request.signal === undefined ? {} : { signal: request.signal }),
        });
      } catch (err) {
        const unauthorized = err instanceof OpenStackError && err.errorClass === 'unauthorized';
        if (!unauthorized || attempt > 1 || request.body !== undefined) throw err;
        token = await this.#reauthenticate(token, request.signal);
      }
    }
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  async #url(service: ServiceType, request: ServiceRequest): Promise<string> {
    const base = /^https?:\/\//.test(request.path)
      ? request.path
      : `${await this.endpoint(service, request.signal)}${request.path}`;
    const url = new URL(base);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, item);
    }
    return url.toString();
  }

  /**
   * Replaces a token the server rejected. Requests that fail with the same
   * stale token share one re-authentication; a request that fails after
   * another one already replaced the token just uses the new one.
   */
  async #reauthenticate(stale: Token, signal: AbortSignal | undefined): Promise<Token> {
    if (this.#pending) return untilAborted(this.#pending, signal);
    if (this.#token !== undefined && this.#token !== stale) return this.#token;
    return this.#authenticate(signal, 'token rejected with 401');
  }

  #authenticate(signal: AbortSignal | undefined, reason: string): Promise<Token> {
    this.#authCount++;
    this.#logger?.info(
      { reason, authType: this.#config.auth.type },
      'authenticating with Keystone',
    );

    // The shared attempt runs without any one caller's signal, so that caller
    // giving up does not fail the others waiting on it.
    const pending = issueToken(this.#transport, this.#config.auth).then(
      (token) => {
        this.#token = token;
        return token;
      },
      (err: unknown) => {
        throw this.#explainAuthError(err);
      },
    );
    this.#pending = pending;
    const clear = () => {
      if (this.#pending === pending) this.#pending = undefined;
    };
    pending.then(clear, clear);
    return untilAborted(pending, signal);
  }

  #explainAuthError(err: unknown): unknown {
    if (
      !(err instanceof OpenStackError) ||
      (err.errorClass !== 'unauthorized' && err.errorClass !== 'notFound')
    )
      return err;
    const hint =
      this.#config.auth.type === 'token'
        ? 'the token in the configuration is invalid or expired; provide a new one'
        : 'check the credentials and the project scope';
    return new OpenStackError({
      service: err.service,
      method: err.method,
      path: err.path,
      ...(err.status === undefined ? {} : { status: err.status }),
      message: `Keystone rejected the ${this.#config.auth.type} credentials of cloud "${this.cloudName}" from ${this.#config.source} (${err.serviceMessage}); ${hint}`,
      ...(err.requestId === undefined ? {} : { requestId: err.requestId }),
      errorClass: 'unauthorized',
    });
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}

function refreshAt(token: Token, marginMs: number): number {
  const lifetime = token.expiresAt - token.issuedAt;
  return token.expiresAt - Math.min(marginMs, lifetime / 2);
}

function substituteProjectId(url: string, projectId: string | undefined): string {
  if (projectId === undefined) return url;
  return url.replace(/\$\(project_id\)s|%\(project_id\)s|\{project_id\}/g, projectId);
}

/**
 * Hashes the resolved configuration, credentials included, so that a
 * rotated password or secret yields a different session. Only the SHA-256
 * digest leaves this function.
 */
export function hashConfig(config: CloudConfig): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(config)))
    .digest('hex');
}

/** Returns a JSON-ready copy with sorted keys and revealed secrets (Secret.toJSON would hide them). */
function canonical(value: unknown): unknown {
  if (value instanceof Secret) return { secret: value.reveal() };
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, item]) => [key, canonical(item)]),
    );
  }
  return value;
}
