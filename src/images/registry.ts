import { createHash } from 'node:crypto';

import type { Logger } from '../observability/logger.js';
import { parseAuthChallenges, type AuthChallenge } from './auth-challenge.js';
import type { RegistryCredential } from './credentials.js';
import { errorMessage, ImagePublishError, isImagePublishError } from './errors.js';
import {
  formatImageReference,
  isLoopbackHost,
  registryApiHost,
  stripPort,
  type ImageReference,
} from './reference.js';

/**
 * Manifest media types the client accepts, single-platform and multi-platform,
 * Docker and OCI. Asking for the index types makes the registry return the
 * digest `docker pull` records for multi-platform images.
 */
export const manifestMediaTypes = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /**
   * Registries that may be reached over plain HTTP, as `host` (any port) or
   * `host:port`. Loopback registries always may. HTTPS is tried first.
   * @default []
   */
  insecureRegistries?: readonly string[];
  /** Timeout of each registry request, in milliseconds. @default 30000 */
  requestTimeoutMs?: number;
  logger?: Logger;
}

/** The result of resolving a reference against its registry. */
export interface ResolvedImage {
  /** Digest of the manifest or index the reference names, e.g. `sha256:...`. */
  readonly digest: string;
  /** Media type the registry reported, when it sent one. */
  readonly mediaType: string | undefined;
  /** The credential the registry accepted, or undefined for anonymous access. */
  readonly credential: RegistryCredential | undefined;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

const defaultTokenLifetimeSeconds = 60;
const maxManifestBytes = 4 * 1024 * 1024;

/**
 * A client for the Registry HTTP API v2 that resolves references to manifest
 * digests. It meets 401 challenges with Basic auth or a Bearer token from
 * the challenge's realm, and caches tokens until shortly before they expire.
 * It never retries: every failure becomes an {@link ImagePublishError} for the
 * caller to classify and back off.
 */
export class RegistryClient {
  private readonly insecureRegistries: readonly string[];
  private readonly requestTimeoutMs: number;
  private readonly logger: Logger | undefined;
  private readonly schemes = new Map<string, 'https' | 'http'>();
  private readonly tokens = new Map<string, CachedToken>();

  constructor(options: RegistryClientOptions = {}) {
    this.insecureRegistries = options.insecureRegistries ?? [];
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.logger = options.logger;
  }

  /**
   * Resolves ref to the digest of its manifest (HEAD, with a GET fallback for
   * registries that omit `Docker-Content-Digest`). Credentials are tried in
   * order until the registry accepts one; with none, access is anonymous.
   * Throws {@link ImagePublishError} with reason `notFound`, `unauthorized`
   * (naming the registry) or `registryUnavailable`.
   */
  async resolve(
    ref: ImageReference,
    credentials: readonly RegistryCredential[] = [],
  ): Promise<ResolvedImage> {
    const candidates = credentials.length > 0 ? credentials : [undefined];
    let rejected: ImagePublishError | undefined;
    for (const credential of candidates) {
      try {
        return await this.resolveWith(ref, credential);
      } catch (err) {
        if (!isImagePublishError(err, 'unauthorized')) throw err;
        rejected = err;
      }
    }
    throw rejected!;
  }

  private async resolveWith(
    ref: ImageReference,
    credential: RegistryCredential | undefined,
  ): Promise<ResolvedImage> {
    const path = `/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`;
    const headers = { Accept: manifestMediaTypes.join(', ') };

    let response = await this.send(ref, 'HEAD', path, headers, undefined);
    let authorization: string | undefined;
    if (response.status === 401) {
      authorization = await this.authorize(ref, response, credential);
      response = await this.send(ref, 'HEAD', path, headers, authorization);
    }

    // A HEAD response carries no error body, so ask again with GET and the message can
    // say what the registry objected to.
    if (!response.ok) response = await this.send(ref, 'GET', path, headers, authorization);
    if (!response.ok) throw this.statusError(ref, response, credential);

    let digest = response.headers.get('docker-content-digest') ?? undefined;
    const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim() || undefined;
    if (digest === undefined) {
      const body =
        response.method === 'GET'
          ? response.body
          : (await this.send(ref, 'GET', path, headers, authorization)).body;
      digest = `sha256:${createHash('sha256')
        .update(body ?? Buffer.alloc(0))
        .digest('hex')}`;
    }
    if (ref.digest !== undefined && digest !== ref.digest) {
      this.logger?.warn(
        { registry: ref.registry, reference: formatImageReference(ref), reported: digest },
        'registry reported a different digest for a reference pinned by digest; using the pinned digest',
      );
      digest = ref.digest;
    }

    this.logger?.debug(
      { registry: ref.registry, reference: formatImageReference(ref), digest },
      'resolved image digest',
    );
    return { digest, mediaType, credential };
  }

  /** Returns the Authorization header value for the registry's 401 challenge, fetching a token if needed. */
  private async authorize(
    ref: ImageReference,
    response: RegistryResponse,
    credential: RegistryCredential | undefined,
  ): Promise<string> {
    const challenges = parseAuthChallenges(response.headers.get('www-authenticate'));
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    const basic = challenges.find((c) => c.scheme === 'basic');

    if (bearer !== undefined) return `Bearer ${await this.fetchToken(ref, bearer, credential)}`;
    if (basic !== undefined && credential !== undefined) return basicAuthorization(credential);
    if (basic !== undefined) throw missingCredentialsError(ref);
    throw new ImagePublishError(
      'unauthorized',
      `registry ${ref.registry} returned 401 without a Basic or Bearer challenge ` +
        `for ${formatImageReference(ref)}; check that ${ref.registry} is a Docker registry`,
      { reference: formatImageReference(ref), registry: ref.registry, statusCode: 401 },
    );
  }

  /** Fetches (or reuses) a pull token from the challenge's realm, as `docker pull` does. */
  private async fetchToken(
    ref: ImageReference,
    challenge: AuthChallenge,
    credential: RegistryCredential | undefined,
  ): Promise<string> {
    const realm = challenge.params.realm!;
    const scope = challenge.params.scope ?? `repository:${ref.repository}:pull`;
    const url = this.tokenURL(ref, realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', scope);

    const cacheKey = [url.toString(), credential ? fingerprint(credential) : 'anonymous'].join('|');
    const cached = this.tokens.get(cacheKey);
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached.token;

    const headers: Record<string, string> = { Accept: 'application/json' };
    if (credential !== undefined) headers.Authorization = basicAuthorization(credential);
    const response = await this.fetchWithTimeout(ref, url, 'GET', headers);

    if (response.status === 401 || response.status === 403) {
      throw credential === undefined
        ? missingCredentialsError(ref)
        : rejectedCredentialsError(ref, credential, response.status);
    }
    if (!response.ok) {
      throw new ImagePublishError(
        'registryUnavailable',
        `token service ${url.origin} of registry ${ref.registry} returned HTTP ${response.status}; retry later`,
        {
          reference: formatImageReference(ref),
          registry: ref.registry,
          statusCode: response.status,
        },
      );
    }

    const body = parseJSON(response.body) as {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
    };
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || token.length === 0) {
      throw new ImagePublishError(
        'registryUnavailable',
        `token service ${url.origin} of registry ${ref.registry} returned no token; retry later`,
        { reference: formatImageReference(ref), registry: ref.registry },
      );
    }
    const lifetime =
      typeof body.expires_in === 'number' ? body.expires_in : defaultTokenLifetimeSeconds;
    this.tokens.set(cacheKey, { token, expiresAt: Date.now() + Math.max(0, lifetime - 10) * 1000 });
    return token;
  }

  /** Validates the realm URL: HTTPS, or HTTP only on hosts allowed plain HTTP. */
  private tokenURL(ref: ImageReference, realm: string): URL {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      url = new URL('invalid:');
    }
    const allowed =
      url.protocol === 'https:' || (url.protocol === 'http:' && this.allowsPlainHTTP(url.host));
    if (!allowed) {
      throw new ImagePublishError(
        'registryUnavailable',
        `registry ${ref.registry} sent token realm ${JSON.stringify(realm)}, which is not an HTTPS URL; ` +
          'credentials are only sent to HTTPS realms or to registries marked insecure',
        { reference: formatImageReference(ref), registry: ref.registry },
      );
    }
    return url;
  }

  private statusError(
    ref: ImageReference,
    response: RegistryResponse,
    credential: RegistryCredential | undefined,
  ): ImagePublishError {
    const details = {
      reference: formatImageReference(ref),
      registry: ref.registry,
      statusCode: response.status,
    };
    const registryError = describeRegistryErrors(response.body);
    const suffix = registryError ? ` (${registryError})` : '';

    if (response.status === 401 || response.status === 403) {
      return credential === undefined
        ? missingCredentialsError(ref)
        : rejectedCredentialsError(ref, credential, response.status);
    }
    if (response.status === 404) {
      return new ImagePublishError(
        'notFound',
        `image ${formatImageReference(ref)} not found in registry ${ref.registry}${suffix}; ` +
          'check the repository name and the tag or digest',
        details,
      );
    }
    if (response.status === 400 && /NAME_INVALID|TAG_INVALID|DIGEST_INVALID/.test(registryError)) {
      return new ImagePublishError(
        'invalidReference',
        `registry ${ref.registry} rejected image reference ${formatImageReference(ref)}${suffix}`,
        details,
      );
    }
    return new ImagePublishError(
      'registryUnavailable',
      `registry ${ref.registry} returned HTTP ${response.status} for ${formatImageReference(ref)}${suffix}; retry later`,
      details,
    );
  }

  private async send(
    ref: ImageReference,
    method: 'HEAD' | 'GET',
    path: string,
    headers: Record<string, string>,
    authorization: string | undefined,
  ): Promise<RegistryResponse> {
    const host = registryApiHost(ref);
    const allHeaders = authorization ? { ...headers, Authorization: authorization } : headers;
    const known = this.schemes.get(host);
    const schemes: ('https' | 'http')[] = known
      ? [known]
      : this.allowsPlainHTTP(host)
        ? ['https', 'http']
        : ['https'];

    let lastError: unknown;
    for (const scheme of schemes) {
      try {
        const response = await this.fetchWithTimeout(
          ref,
          new URL(`${scheme}://${host}${path}`),
          method,
          allHeaders,
        );
        this.schemes.set(host, scheme);
        return response;
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  private async fetchWithTimeout(
    ref: ImageReference,
    url: URL,
    method: 'HEAD' | 'GET',
    headers: Record<string, string>,
  ): Promise<RegistryResponse> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
      const problem = timedOut
        ? `timed out after ${this.requestTimeoutMs} ms`
        : `failed: ${describeFetchError(err)}`;
      throw new ImagePublishError(
        'registryUnavailable',
        `request ${method} ${url.origin}${url.pathname} to registry ${ref.registry} ${problem}; ` +
          'check that the registry is reachable',
        { reference: formatImageReference(ref), registry: ref.registry, cause: err },
      );
    }

    const body = method === 'GET' ? await readLimited(response, maxManifestBytes) : undefined;
    this.logger?.debug(
      { registry: ref.registry, method, path: url.pathname, statusCode: response.status },
      'registry request',
    );
    return { status: response.status, ok: response.ok, headers: response.headers, body, method };
  }

  private allowsPlainHTTP(host: string): boolean {
    if (isLoopbackHost(host)) return true;
    return this.insecureRegistries.some((entry) => entry === host || entry === stripPort(host));
  }
}

interface RegistryResponse {
  status: number;
  ok: boolean;
  headers: Headers;
  body: Buffer | undefined;
  method: 'HEAD' | 'GET';
}

function basicAuthorization(credential: RegistryCredential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
}

/** Returns a hash that keys the token cache per credential without keeping the password readable. */
function fingerprint(credential: RegistryCredential): string {
  return createHash('sha256')
    .update(`${credential.username}\u0000${credential.password}`)
    .digest('hex');
}

function missingCredentialsError(ref: ImageReference): ImagePublishError {
  return new ImagePublishError(
    'unauthorized',
    `registry ${ref.registry} requires authentication for ${formatImageReference(ref)} ` +
      `and no image pull secret has credentials for ${ref.registry}; add a kubernetes.io/dockerconfigjson ` +
      'Secret with an entry for that registry (some registries also return 401 when the repository does not exist)',
    { reference: formatImageReference(ref), registry: ref.registry, statusCode: 401 },
  );
}

function rejectedCredentialsError(
  ref: ImageReference,
  credential: RegistryCredential,
  statusCode: number,
): ImagePublishError {
  return new ImagePublishError(
    'unauthorized',
    `registry ${ref.registry} rejected the credentials from image pull secret ${credential.source} ` +
      `for ${formatImageReference(ref)} (HTTP ${statusCode}); update the username and password in that Secret`,
    { reference: formatImageReference(ref), registry: ref.registry, statusCode },
  );
}

async function readLimited(response: Response, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (response.body === null) return Buffer.alloc(0);
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > limit) {
      await response.body.cancel().catch(() => undefined);
      break;
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function parseJSON(body: Buffer | undefined): unknown {
  try {
    return JSON.parse(body?.toString('utf8') ?? '') as unknown;
  } catch {
    return {};
  }
}

/** Formats the `errors` array of a registry error body as `CODE: message`, or returns ''. */
function describeRegistryErrors(body: Buffer | undefined): string {
  const parsed = parseJSON(body) as { errors?: { code?: unknown; message?: unknown }[] };
  if (!Array.isArray(parsed.errors)) return '';
  return parsed.errors
    .map((e) =>
      [e.code, e.message].filter((part) => typeof part === 'string' && part.length > 0).join(': '),
    )
    .filter((text) => text.length > 0)
    .join('; ');
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  return cause === undefined ? errorMessage(err) : `${errorMessage(err)} (${errorMessage(cause)})`;
}
