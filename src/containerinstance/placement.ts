/**
 * Placement resolution: the flavor, networks and security groups of a
 * server create, looked up by the names in the spec. Answers are kept per
 * cloud and project for a while, so a Stalled instance that reconciles
 * again does not repeat the lookups.
 */
import type { ContainerInstance } from '../api/index.js';
import {
  OpenStackLookupError,
  type CreateServerRequest,
  type Flavor,
  type Network,
  type OpenStackClient,
  type SecurityGroup,
} from '../openstack/index.js';
import { OpenStackError } from '../openstack/index.js';
import type { ResolvedCloud } from './cloud.js';

/** The server create fields that come from looked-up names. */
export interface Placement {
  flavor: Flavor;
  networks: CreateServerRequest['networks'];
  /** Security group IDs, because names repeat across projects that an admin can see. */
  securityGroups?: string[];
}

/** Settings of a {@link PlacementResolver}; durations in milliseconds. */
export interface PlacementResolverOptions {
  /** Network for instances without spec.networks; undefined lets Nova pick (`auto`). */
  defaultNetwork?: string;
  /** How long a lookup result (found or not found) is reused. @default 60000 */
  ttlMs?: number;
}

interface Answer<T> {
  at: number;
  value?: T;
  error?: unknown;
}

interface ScopeCache {
  flavors?: Answer<Flavor[]>;
  networks: Map<string, Answer<Network>>;
  groups: Map<string, Answer<SecurityGroup>>;
}

const MAX_SCOPES = 64;

/**
 * Looks up placement names with per-scope caching of both found and
 * not-found answers. Transient errors are not kept, so the next reconcile
 * asks again. Lookup failures are {@link OpenStackLookupError}s that list the
 * names that exist.
 */
export class PlacementResolver {
  readonly #ttlMs: number;
  readonly #defaultNetwork: string | undefined;
  readonly #scopes = new Map<string, ScopeCache>();

  constructor(options: PlacementResolverOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#defaultNetwork = options.defaultNetwork;
  }

  /** Resolves the flavor, networks and security groups of the instance in its cloud. */
  async resolve(cloud: ResolvedCloud, instance: ContainerInstance): Promise<Placement> {
    const cache = this.#scope(cloud.scope);
    const flavor = await this.#flavor(cloud.client, cache, instance.spec.flavor);
    const networks = await this.#networks(cloud.client, cache, instance);

    const groupNames = instance.spec.securityGroups ?? [];
    const groups: string[] = [];
    for (const name of groupNames) {
      const group = await this.#cached(cache.groups, name, () =>
        cloud.client.network.findSecurityGroup(name),
      );
      groups.push(group.id);
    }
    return { flavor, networks, ...(groupNames.length > 0 ? { securityGroups: groups } : {}) };
  }

  /** Forgets every answer of a scope, e.g. after Nova rejected a create with a cached flavor. */
  forget(scope: string): void {
    this.#scopes.delete(scope);
  }

  async #flavor(client: OpenStackClient, cache: ScopeCache, reference: string): Promise<Flavor> {
    // One listing answers every flavor name of the scope, so it is cached
    // as a whole rather than per name.
    let answer = cache.flavors;
    if (answer === undefined || Date.now() - answer.at > this.#ttlMs) {
      answer = { at: Date.now(), value: await client.compute.listFlavors() };
      cache.flavors = answer;
    }
    const flavors = answer.value ?? [];
    const byId = flavors.find((flavor) => flavor.id === reference);
    if (byId !== undefined) return byId;
    const byName = flavors.filter((flavor) => flavor.name === reference);
    if (byName.length === 1) return byName[0]!;
    throw new OpenStackLookupError({
      service: 'compute',
      path: '/flavors/detail',
      resource: 'flavor',
      reference,
      available: flavors.map((flavor) => flavor.name).sort(),
      matches: byName.map((flavor) => flavor.id),
      cloud: client.cloudName,
      ...(client.session.regionName === undefined ? {} : { region: client.session.regionName }),
    });
  }

  async #networks(
    client: OpenStackClient,
    cache: ScopeCache,
    instance: ContainerInstance,
  ): Promise<Placement['networks']> {
    const attachments = instance.spec.networks;
    if (attachments === undefined || attachments.length === 0) {
      if (this.#defaultNetwork === undefined) return 'auto';
      const network = await this.#cached(cache.networks, this.#defaultNetwork, () =>
        client.network.findNetwork(this.#defaultNetwork!),
      );
      return [{ uuid: network.id }];
    }

    const networks: Array<{ uuid?: string; port?: string }> = [];
    for (const attachment of attachments) {
      if (attachment.port !== undefined) {
        // Nova checks the port itself and answers 400 naming it when it is unusable.
        networks.push({ port: attachment.port });
        continue;
      }
      const reference = attachment.id ?? attachment.name ?? '';
      const network = await this.#cached(cache.networks, reference, () =>
        client.network.findNetwork(reference),
      );
      networks.push({ uuid: network.id });
    }
    return networks;
  }

  async #cached<T>(
    answers: Map<string, Answer<T>>,
    key: string,
    lookup: () => Promise<T>,
  ): Promise<T> {
    const answer = answers.get(key);
    if (answer !== undefined && Date.now() - answer.at <= this.#ttlMs) {
      if (answer.error !== undefined) throw answer.error;
      return answer.value!;
    }
    try {
      const value = await lookup();
      answers.set(key, { at: Date.now(), value });
      return value;
    } catch (err) {
      // Only definite answers are kept: not found and ambiguous.
      if (
        err instanceof OpenStackLookupError ||
        (err instanceof OpenStackError && err.errorClass === 'notFound')
      ) {
        answers.set(key, { at: Date.now(), error: err });
      }
      throw err;
    }
  }

  #scope(scope: string): ScopeCache {
    let cache = this.#scopes.get(scope);
    if (cache === undefined) {
      cache = { networks: new Map(), groups: new Map() };
      this.#scopes.set(scope, cache);
      for (const key of this.#scopes.keys()) {
        if (this.#scopes.size <= MAX_SCOPES) break;
        this.#scopes.delete(key);
      }
    }
    return cache;
  }
}
