/**
 * Compute API microversions: parsing, comparison and negotiation against the
 * version document of the Nova endpoint.
 */
import { OpenStackError } from './errors.js';
import {
  callRequestOptions,
  type CallOptions,
  type ServiceRequest,
  type Session,
} from './session.js';
import type { HttpResponse } from './transport.js';

/**
 * Highest compute microversion this client reads correctly. Responses were
 * checked against the Nova API reference up to here: 2.47 embeds the flavor
 * in a server (no flavor ID), 2.69 may return partial servers from down
 * cells, 2.94 to 2.96 only add fields.
 */
export const clientMaxMicroversion = '2.96';

/** Microversions that gate features of this client. */
export const requiredMicroversions = {
  /** Server tags API (`/servers/{id}/tags`) and the `tags` list filters. */
  tags: '2.26',
  /** `networks: "none"` and `"auto"`; `networks` is required from here on. */
  networksNoneOrAuto: '2.37',
  /** `tags` in the server create body. */
  tagsAtCreate: '2.52',
} as const;

/** A parsed `major.minor` version. */
export type Version = [major: number, minor: number];

/** Parses `2.93` into [2, 93]; throws on anything else. */
export function parseVersion(text: string): Version {
  const match = /^(\d+)\.(\d+)$/.exec(text.trim());
  if (!match)
    throw new Error(`"${text}" is not a microversion (expected major.minor, such as 2.60)`);
  return [Number(match[1]), Number(match[2])];
}

/** Compares two versions like a sort comparator. */
export function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = parseVersion(a);
  const [bMajor, bMinor] = parseVersion(b);
  return aMajor !== bMajor ? aMajor - bMajor : aMinor - bMinor;
}

/** The part of a compute version document that negotiation reads. */
export interface ComputeVersionDocument {
  version?: { id?: string; version?: string; min_version?: string };
  versions?: Array<{ id?: string; version?: string; min_version?: string; status?: string }>;
}

/**
 * Picks the microversion to send: the highest this client supports, capped at
 * the server's maximum. Throws {@link OpenStackError} when the endpoint does
 * not support microversions at all (a legacy v2.0 endpoint), or when the
 * server's minimum is above what this client supports.
 */
export function negotiateMicroversion(document: ComputeVersionDocument, path: string): string {
  const version =
    document.version ??
    document.versions?.find((entry) => entry.id === 'v2.1') ??
    document.versions?.find((entry) => entry.status === 'CURRENT');
  const fail = (message: string): never => {
    throw new OpenStackError({
      service: 'compute',
      method: 'GET',
      path,
      message,
      errorClass: 'badRequest',
    });
  };

  if (!version?.version) {
    return fail(
      'the compute endpoint does not support microversions (legacy v2.0 API?); point the catalog or compute_endpoint_override at the v2.1 API',
    );
  }
  if (version.min_version && compareVersions(version.min_version, clientMaxMicroversion) > 0) {
    return fail(
      `the compute API requires microversion ${version.min_version} or later, above the ${clientMaxMicroversion} this client supports`,
    );
  }
  return compareVersions(version.version, clientMaxMicroversion) < 0
    ? version.version
    : clientMaxMicroversion;
}

/**
 * Returns the URL of the version document for a compute endpoint, dropping a
 * project ID that older catalogs append after `/v2.1`.
 */
export function versionDocumentUrl(endpoint: string): string {
  const url = new URL(endpoint);
  const match = /^(.*\/v2(?:\.1)?)(?:\/[^/]*)?$/.exec(url.pathname.replace(/\/+$/, ''));
  url.pathname = `${match ? match[1] : url.pathname.replace(/\/+$/, '')}/`;
  url.search = '';
  return url.toString();
}

/**
 * Sends compute requests with the negotiated microversion header. The
 * negotiation runs once per session; a failed one is retried on the next call.
 */
export class MicroversionedCompute {
  readonly #session: Session;
  #microversion: Promise<string> | undefined;

  constructor(session: Session) {
    this.#session = session;
  }

  /** Returns the negotiated microversion, negotiating on first use. */
  microversion(options: CallOptions = {}): Promise<string> {
    this.#microversion ??= this.#negotiate(options.signal).catch((err: unknown) => {
      this.#microversion = undefined;
      throw err;
    });
    return this.#microversion;
  }

  /** Sends a request to the compute endpoint with the microversion headers. */
  async request<T>(request: ServiceRequest, options: CallOptions): Promise<HttpResponse<T>> {
    const microversion = await this.microversion(options);
    return this.#session.request<T>('compute', {
      ...request,
      headers: {
        ...request.headers,
        'OpenStack-API-Version': `compute ${microversion}`,
        'X-OpenStack-Nova-API-Version': microversion,
      },
      ...callRequestOptions(options),
    });
  }

  /**
   * Throws {@link OpenStackError} (class `badRequest`) when the negotiated
   * microversion is below the minimum a feature needs.
   */
  async require(minimum: string, feature: string, options: CallOptions): Promise<void> {
    const microversion = await this.microversion(options);
    if (compareVersions(microversion, minimum) >= 0) return;
    throw new OpenStackError({
      service: 'compute',
      method: 'GET',
      path: '/',
      message: `${feature} needs compute microversion ${minimum}, but the compute API of cloud "${this.#session.cloudName}" supports up to ${microversion}; upgrade Nova`,
      errorClass: 'badRequest',
    });
  }

  async #negotiate(signal: AbortSignal | undefined): Promise<string> {
    const url = versionDocumentUrl(await this.#session.endpoint('compute', signal));
    const response = await this.#session.request<ComputeVersionDocument>('compute', {
      method: 'GET',
      path: url,
      route: '/',
      ...(signal === undefined ? {} : { signal }),
    });
    return negotiateMicroversion(response.body ?? {}, new URL(url).pathname);
  }
}
