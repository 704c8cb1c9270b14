/**
 * Neutron (network v2.0) client: the lookups a server create needs.
 */
import { OpenStackError, OpenStackLookupError } from './errors.js';
import { nextLink, nextPageQuery, paginate, type CollectionLink } from './pagination.js';
import { callRequestOptions, type CallOptions, type Session } from './session.js';

/** A Neutron network. */
export interface Network {
  id: string;
  name: string;
  status?: string;
  shared?: boolean;
  external?: boolean;
  projectId?: string;
  subnetIds: string[];
}

/** A Neutron port. */
export interface Port {
  id: string;
  name: string;
  networkId: string;
  status?: string;
  macAddress?: string;
  fixedIps: Array<{ subnetId: string; ipAddress: string }>;
  deviceId?: string;
  deviceOwner?: string;
  securityGroupIds: string[];
}

/** A Neutron security group. */
export interface SecurityGroup {
  id: string;
  name: string;
  description?: string;
  projectId?: string;
}

type Json = Record<string, unknown>;

const uuidPattern = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * Network API of one session. Every method throws {@link OpenStackError} on
 * failure; the find methods throw {@link OpenStackLookupError} listing what
 * exists when nothing or more than one thing matches.
 */
export class NetworkClient {
  readonly #session: Session;

  constructor(session: Session) {
    this.#session = session;
  }

  /** Lists the networks visible to the project, optionally filtered by exact name. */
  async listNetworks(filters: { name?: string } & CallOptions = {}): Promise<Network[]> {
    return this.#list('networks', '/networks', { name: filters.name }, toNetwork, filters);
  }

  /** Returns one network by ID; throws with class `notFound` when it does not exist. */
  async getNetwork(id: string, options: CallOptions = {}): Promise<Network> {
    const response = await this.#session.request<{ network: Json }>('network', {
      method: 'GET',
      path: `/networks/${encodeURIComponent(id)}`,
      route: '/v2.0/networks/{id}',
      ...callRequestOptions(options),
    });
    return toNetwork(response.body.network);
  }

  /**
   * Finds a network by ID (when the reference looks like a UUID), else by
   * exact name. Shared and external networks of other projects count.
   */
  async findNetwork(nameOrId: string, options: CallOptions = {}): Promise<Network> {
    if (uuidPattern.test(nameOrId)) {
      try {
        return await this.getNetwork(nameOrId, options);
      } catch (err) {
        if (!(err instanceof OpenStackError) || err.errorClass !== 'notFound') throw err;
      }
    }
    const matches = await this.listNetworks({ name: nameOrId, ...options });
    if (matches.length === 1) return matches[0]!;
    return this.#lookupError('network', '/v2.0/networks', nameOrId, matches, () =>
      this.listNetworks(options),
    );
  }

  /** Returns one port by ID; throws with class `notFound` when it does not exist. */
  async getPort(id: string, options: CallOptions = {}): Promise<Port> {
    const response = await this.#session.request<{ port: Json }>('network', {
      method: 'GET',
      path: `/ports/${encodeURIComponent(id)}`,
      route: '/v2.0/ports/{id}',
      ...callRequestOptions(options),
    });
    return toPort(response.body.port);
  }

  /** Lists the security groups of the session's project, optionally filtered by exact name. */
  async listSecurityGroups(
    filters: { name?: string } & CallOptions = {},
  ): Promise<SecurityGroup[]> {
    // Names are unique per project only, and an admin can list every project's
    // "default" group, so the listing is limited to the session's project.
    const projectId = await this.#session.projectId(filters.signal);
    return this.#list(
      'security_groups',
      '/security-groups',
      { name: filters.name, project_id: projectId },
      toSecurityGroup,
      filters,
    );
  }

  /** Finds a security group of the session's project by exact name, or by ID. */
  async findSecurityGroup(nameOrId: string, options: CallOptions = {}): Promise<SecurityGroup> {
    const matches = await this.listSecurityGroups({ name: nameOrId, ...options });
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0 && uuidPattern.test(nameOrId)) {
      const byId = (await this.listSecurityGroups(options)).find((group) => group.id === nameOrId);
      if (byId) return byId;
    }
    return this.#lookupError('security group', '/v2.0/security-groups', nameOrId, matches, () =>
      this.listSecurityGroups(options),
    );
  }

  async #list<T>(
    collection: string,
    path: string,
    query: Record<string, string | undefined>,
    convert: (raw: Json) => T,
    options: CallOptions,
  ): Promise<T[]> {
    const items: T[] = [];
    const pages = paginate(async (next) => {
      const response = await this.#session.request<Record<string, unknown>>('network', {
        method: 'GET',
        path,
        route: `/v2.0${path}`,
        query: { ...query, ...next },
        ...callRequestOptions(options),
      });
      const raw = (response.body[collection] ?? []) as Json[];
      const links = response.body[`${collection}_links`] as CollectionLink[] | undefined;
      return { items: raw.map(convert), next: nextPageQuery(nextLink(links)) };
    });
    for await (const page of pages) items.push(...page);
    return items;
  }

  async #lookupError(
    resource: string,
    path: string,
    reference: string,
    matches: Array<{ id: string }>,
    listAll: () => Promise<Array<{ id: string; name: string }>>,
  ): Promise<never> {
    const available =
      matches.length > 1 ? [] : (await listAll()).map((item) => item.name || item.id).sort();
    throw new OpenStackLookupError({
      service: 'network',
      path,
      resource,
      reference,
      available,
      matches: matches.map((item) => item.id),
      cloud: this.#session.cloudName,
      ...(this.#session.regionName === undefined ? {} : { region: this.#session.regionName }),
    });
  }
}

function toNetwork(raw: Json): Network {
  const network: Network = {
    id: String(raw.id),
    name: String(raw.name ?? ''),
    subnetIds: Array.isArray(raw.subnets) ? raw.subnets.map(String) : [],
  };
  if (typeof raw.status === 'string') network.status = raw.status;
  if (typeof raw.shared === 'boolean') network.shared = raw.shared;
  if (typeof raw['router:external'] === 'boolean') network.external = raw['router:external'];
  if (typeof raw.project_id === 'string') network.projectId = raw.project_id;
  return network;
}

function toPort(raw: Json): Port {
  const port: Port = {
    id: String(raw.id),
    name: String(raw.name ?? ''),
    networkId: String(raw.network_id ?? ''),
    fixedIps: Array.isArray(raw.fixed_ips)
      ? (raw.fixed_ips as Json[]).map((ip) => ({
          subnetId: String(ip.subnet_id),
          ipAddress: String(ip.ip_address),
        }))
      : [],
    securityGroupIds: Array.isArray(raw.security_groups) ? raw.security_groups.map(String) : [],
  };
  if (typeof raw.status === 'string') port.status = raw.status;
  if (typeof raw.mac_address === 'string') port.macAddress = raw.mac_address;
  if (typeof raw.device_id === 'string' && raw.device_id !== '') port.deviceId = raw.device_id;
  if (typeof raw.device_owner === 'string' && raw.device_owner !== '')
    port.deviceOwner = raw.device_owner;
  return port;
}

function toSecurityGroup(raw: Json): SecurityGroup {
  const group: SecurityGroup = { id: String(raw.id), name: String(raw.name ?? '') };
  if (typeof raw.description === 'string') group.description = raw.description;
  if (typeof raw.project_id === 'string') group.projectId = raw.project_id;
  return group;
}
