/**
 * Nova (compute v2.1) client: servers, server actions, tags, metadata and
 * flavors, with microversion negotiation.
 */
import {
  createServerBody,
  toFlavor,
  toServer,
  type CreatedServer,
  type CreateServerRequest,
  type Flavor,
  type ListServersOptions,
  type Server,
} from './compute-types.js';
import { OpenStackError, OpenStackLookupError } from './errors.js';
import { MicroversionedCompute, requiredMicroversions } from './microversion.js';
import {
  mergePageQuery,
  nextLink,
  nextPageQuery,
  paginate,
  type CollectionLink,
} from './pagination.js';
import type { CallOptions, Session } from './session.js';

/** Reboot kinds: SOFT signals the guest to restart, HARD power-cycles it. */
export type RebootType = 'SOFT' | 'HARD';

/** Fields of a rebuild; the server keeps its ID, flavor and networks. */
export interface RebuildRequest {
  imageRef: string;
  name?: string;
  metadata?: Record<string, string>;
}

type Json = Record<string, unknown>;

/**
 * Compute API of one session. Every method throws {@link OpenStackError}
 * on failure, with class `notFound` for a missing server or flavor.
 */
export class ComputeClient {
  readonly #session: Session;
  readonly #api: MicroversionedCompute;

  constructor(session: Session) {
    this.#session = session;
    this.#api = new MicroversionedCompute(session);
  }

  /**
   * Returns the negotiated microversion: the highest this client supports, up to
   * the server's maximum, read once from the version document.
   */
  microversion(options: CallOptions = {}): Promise<string> {
    return this.#api.microversion(options);
  }

  /**
   * Creates a server and returns its ID as soon as Nova accepts the request;
   * the server then builds asynchronously. Tags are set in the same request,
   * which needs microversion 2.52. Never retried after the request reached
   * Nova, so a failure leaves at most one server, findable by its tags.
   */
  async createServer(
    request: CreateServerRequest,
    options: CallOptions = {},
  ): Promise<CreatedServer> {
    if (request.tags !== undefined && request.tags.length > 0) {
      await this.#api.require(requiredMicroversions.tagsAtCreate, 'server tags at create', options);
    }
    if (typeof request.networks === 'string') {
      await this.#api.require(
        requiredMicroversions.networksNoneOrAuto,
        `networks: "${request.networks}"`,
        options,
      );
    }

    const response = await this.#api.request<{ server: { id: string } }>(
      {
        method: 'POST',
        path: '/servers',
        route: '/servers',
        json: { server: createServerBody(request) },
      },
      options,
    );
    return {
      id: response.body.server.id,
      ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
    };
  }

  /** Returns one server; throws with class `notFound` when it does not exist. */
  async getServer(id: string, options: CallOptions = {}): Promise<Server> {
    const response = await this.#api.request<{ server: Json }>(
      { method: 'GET', path: `/servers/${encodeURIComponent(id)}`, route: '/servers/{id}' },
      options,
    );
    return toServer(response.body.server);
  }

  /**
   * Lists servers with details, following every page, filtered on the server
   * side, each server once. Tag filters need microversion 2.26. See
   * {@link ComputeClient.listServerPages} for servers being scheduled.
   */
  async listServers(options: ListServersOptions = {}): Promise<Server[]> {
    // Nova lists a server that is still scheduling from its build request and
    // then from its cell, so one that is placed between two page requests
    // appears on both pages. The later copy is the fresher one.
    const servers = new Map<string, Server>();
    for await (const page of this.listServerPages(options)) {
      for (const server of page) {
        servers.delete(server.id);
        servers.set(server.id, server);
      }
    }
    return [...servers.values()];
  }

  /**
   * Lists servers page by page, for callers that process pages as they
   * arrive.
   *
   * NOTE: Nova pages over build requests and cells separately, so a server
   * placed between two page requests can appear on two pages or on none.
   * Only listings that span several pages are affected.
   */
  async *listServerPages(options: ListServersOptions = {}): AsyncGenerator<Server[]> {
    if (options.tags || options.tagsAny || options.notTags) {
      await this.#api.require(requiredMicroversions.tags, 'tag filters', options);
    }
    const query = serverListQuery(options);
    yield* paginate(async (next) => {
      const response = await this.#api.request<{
        servers: Json[];
        servers_links?: CollectionLink[];
      }>(
        {
          method: 'GET',
          path: '/servers/detail',
          route: '/servers/detail',
          query: next === undefined ? query : mergePageQuery(query, next),
        },
        options,
      );
      return {
        items: response.body.servers.map(toServer),
        next: nextPageQuery(nextLink(response.body.servers_links)),
      };
    });
  }

  /** Deletes a server; Nova finishes the deletion asynchronously. Throws `notFound` when it is already gone. */
  async deleteServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.#api.request(
      { method: 'DELETE', path: `/servers/${encodeURIComponent(id)}`, route: '/servers/{id}' },
      options,
    );
  }

  /** Deletes a server at once, including one that is SOFT_DELETED (the `forceDelete` action). */
  async forceDeleteServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.#action(id, { forceDelete: null }, options);
  }

  /** Starts a SHUTOFF server (`os-start`). */
  async startServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.#action(id, { 'os-start': null }, options);
  }

  /** Stops an ACTIVE server (`os-stop`). */
  async stopServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.#action(id, { 'os-stop': null }, options);
  }

  /** Pauses an ACTIVE server. */
  async pauseServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.#action(id, { pause: null }, options);
  }

  /** Unpauses a PAUSED server. */
  async unpauseServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.#action(id, { unpause: null }, options);
  }

  /** Suspends an ACTIVE server; Nova keeps it on its host in SUSPENDED. */
  async suspendServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.#action(id, { suspend: null }, options);
  }

  /** Resumes a SUSPENDED server to ACTIVE. */
  async resumeServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.#action(id, { resume: null }, options);
  }

  /**
   * Shelves an ACTIVE, SHUTOFF, PAUSED or SUSPENDED server: Nova stops it,
   * snapshots an image-backed server into a Glance image named
   * `<server name>-shelved`, and offloads it (SHELVED_OFFLOADED) at once
   * unless `shelved_offload_time` is set.
   */
  async shelveServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.#action(id, { shelve: null }, options);
  }

  /**
   * Unshelves a SHELVED or SHELVED_OFFLOADED server to ACTIVE in its current
   * availability zone. The body is `{"unshelve": null}`, which every
   * microversion accepts; from 2.77 an object could name a new zone.
   */
  async unshelveServer(id: string, options: CallOptions = {}): Promise<void> {
    await this.#action(id, { unshelve: null }, options);
  }

  /** Reboots a server. @param type @default "SOFT" */
  async rebootServer(
    id: string,
    type: RebootType = 'SOFT',
    options: CallOptions = {},
  ): Promise<void> {
    await this.#action(id, { reboot: { type } }, options);
  }

  /** Rebuilds a server from an image, keeping its ID. */
  async rebuildServer(
    id: string,
    request: RebuildRequest,
    options: CallOptions = {},
  ): Promise<void> {
    const rebuild: Json = { imageRef: request.imageRef };
    if (request.name !== undefined) rebuild.name = request.name;
    if (request.metadata !== undefined) rebuild.metadata = request.metadata;
    await this.#action(id, { rebuild }, options);
  }

  /**
   * Returns the console output of a server: the last `lines` lines, or all of
   * it. For Nova-Docker this is the container's log.
   */
  async getConsoleOutput(id: string, lines?: number, options: CallOptions = {}): Promise<string> {
    const response = await this.#api.request<{ output: string }>(
      {
        method: 'POST',
        path: `/servers/${encodeURIComponent(id)}/action`,
        route: '/servers/{id}/action',
        json: { 'os-getConsoleOutput': lines === undefined ? {} : { length: lines } },
        // Reading the console changes nothing, so it is safe to repeat.
        idempotent: true,
      },
      options,
    );
    return response.body.output;
  }

  /** Returns the tags of a server (microversion 2.26). */
  async listServerTags(id: string, options: CallOptions = {}): Promise<string[]> {
    await this.#api.require(requiredMicroversions.tags, 'server tags', options);
    const response = await this.#api.request<{ tags: string[] }>(
      {
        method: 'GET',
        path: `/servers/${encodeURIComponent(id)}/tags`,
        route: '/servers/{id}/tags',
      },
      options,
    );
    return response.body.tags;
  }

  /** Replaces all tags of a server with the given list (microversion 2.26). */
  async replaceServerTags(
    id: string,
    tags: string[],
    options: CallOptions = {},
  ): Promise<string[]> {
    await this.#api.require(requiredMicroversions.tags, 'server tags', options);
    const response = await this.#api.request<{ tags: string[] }>(
      {
        method: 'PUT',
        path: `/servers/${encodeURIComponent(id)}/tags`,
        route: '/servers/{id}/tags',
        json: { tags },
      },
      options,
    );
    return response.body.tags;
  }

  /** Adds one tag to a server; adding a tag it already has succeeds (microversion 2.26). */
  async addServerTag(id: string, tag: string, options: CallOptions = {}): Promise<void> {
    await this.#api.require(requiredMicroversions.tags, 'server tags', options);
    await this.#api.request(
      {
        method: 'PUT',
        path: `/servers/${encodeURIComponent(id)}/tags/${encodeURIComponent(tag)}`,
        route: '/servers/{id}/tags/{tag}',
      },
      options,
    );
  }

  /** Removes one tag from a server; throws `notFound` when it does not have it. */
  async deleteServerTag(id: string, tag: string, options: CallOptions = {}): Promise<void> {
    await this.#api.require(requiredMicroversions.tags, 'server tags', options);
    await this.#api.request(
      {
        method: 'DELETE',
        path: `/servers/${encodeURIComponent(id)}/tags/${encodeURIComponent(tag)}`,
        route: '/servers/{id}/tags/{tag}',
      },
      options,
    );
  }

  /**
   * Sets metadata items, keeping the keys not given, and returns the
   * server's whole metadata afterwards. Nova-Docker exposes metadata to the
   * container as environment variables.
   */
  async setServerMetadata(
    id: string,
    metadata: Record<string, string>,
    options: CallOptions = {},
  ): Promise<Record<string, string>> {
    const response = await this.#api.request<{ metadata: Record<string, string> }>(
      {
        method: 'POST',
        path: `/servers/${encodeURIComponent(id)}/metadata`,
        route: '/servers/{id}/metadata',
        json: { metadata },
        // Setting the same items twice has the same result as once.
        idempotent: true,
      },
      options,
    );
    return response.body.metadata;
  }

  /** Replaces the whole metadata of a server and returns it. */
  async replaceServerMetadata(
    id: string,
    metadata: Record<string, string>,
    options: CallOptions = {},
  ): Promise<Record<string, string>> {
    const response = await this.#api.request<{ metadata: Record<string, string> }>(
      {
        method: 'PUT',
        path: `/servers/${encodeURIComponent(id)}/metadata`,
        route: '/servers/{id}/metadata',
        json: { metadata },
      },
      options,
    );
    return response.body.metadata;
  }

  /** Deletes one metadata item; throws `notFound` when the key is not set. */
  async deleteServerMetadata(id: string, key: string, options: CallOptions = {}): Promise<void> {
    await this.#api.request(
      {
        method: 'DELETE',
        path: `/servers/${encodeURIComponent(id)}/metadata/${encodeURIComponent(key)}`,
        route: '/servers/{id}/metadata/{key}',
      },
      options,
    );
  }

  /** Lists every flavor visible to the project, with details. */
  async listFlavors(options: CallOptions = {}): Promise<Flavor[]> {
    const flavors: Flavor[] = [];
    const pages = paginate(async (next) => {
      const response = await this.#api.request<{
        flavors: Json[];
        flavors_links?: CollectionLink[];
      }>(
        {
          method: 'GET',
          path: '/flavors/detail',
          route: '/flavors/detail',
          ...(next === undefined ? {} : { query: next }),
        },
        options,
      );
      return {
        items: response.body.flavors.map(toFlavor),
        next: nextPageQuery(nextLink(response.body.flavors_links)),
      };
    });
    for await (const page of pages) flavors.push(...page);
    return flavors;
  }

  /** Returns one flavor by ID; throws with class `notFound` when it does not exist. */
  async getFlavor(id: string, options: CallOptions = {}): Promise<Flavor> {
    const response = await this.#api.request<{ flavor: Json }>(
      { method: 'GET', path: `/flavors/${encodeURIComponent(id)}`, route: '/flavors/{id}' },
      options,
    );
    return toFlavor(response.body.flavor);
  }

  /**
   * Finds a flavor by ID, else by exact name. Throws
   * {@link OpenStackLookupError} listing the existing flavor names when none
   * matches (class `notFound`), or when several share the name (`conflict`).
   */
  async findFlavor(nameOrId: string, options: CallOptions = {}): Promise<Flavor> {
    try {
      return await this.getFlavor(nameOrId, options);
    } catch (err) {
      if (!(err instanceof OpenStackError) || err.errorClass !== 'notFound') throw err;
    }

    const flavors = await this.listFlavors(options);
    const matches = flavors.filter((flavor) => flavor.name === nameOrId);
    if (matches.length === 1) return matches[0]!;
    throw new OpenStackLookupError({
      service: 'compute',
      path: '/flavors/detail',
      resource: 'flavor',
      reference: nameOrId,
      available: flavors.map((flavor) => flavor.name).sort(),
      matches: matches.map((flavor) => flavor.id),
      cloud: this.#session.cloudName,
      ...(this.#session.regionName === undefined ? {} : { region: this.#session.regionName }),
    });
  }

  async #action(id: string, action: Json, options: CallOptions): Promise<void> {
    await this.#api.request(
      {
        method: 'POST',
        path: `/servers/${encodeURIComponent(id)}/action`,
        route: '/servers/{id}/action',
        json: action,
      },
      options,
    );
  }
}

function serverListQuery(options: ListServersOptions): Record<string, string | undefined> {
  const changesSince =
    options.changesSince instanceof Date
      ? options.changesSince.toISOString()
      : options.changesSince;
  return {
    tags: options.tags?.join(','),
    'tags-any': options.tagsAny?.join(','),
    'not-tags': options.notTags?.join(','),
    name: options.name,
    'changes-since': changesSince,
    status: options.status,
    limit: options.limit === undefined ? undefined : String(options.limit),
    all_tenants: options.allProjects ? 'True' : undefined,
  };
}
