/**
 * Nova resource shapes as this client returns them (camelCase, normalized
 * across microversions), and the conversion from Nova's JSON.
 */
import type { CallOptions } from './session.js';

/** One IP address of a server on one network. */
export interface ServerAddress {
  network: string;
  ip: string;
  version: 4 | 6;
  /** `fixed` or `floating`, from OS-EXT-IPS:type. */
  type?: string;
  mac?: string;
}

/** The fault Nova records on a server in ERROR. */
export interface ServerFault {
  code: number;
  message: string;
  created?: string;
  details?: string;
}

/** The flavor of a server; from microversion 2.47 Nova embeds it without its ID. */
export interface ServerFlavor {
  id?: string;
  /** Flavor name (`original_name` from 2.47). */
  name?: string;
  vcpus?: number;
  ramMb?: number;
  diskGb?: number;
}

/** A Nova server. Fields Nova leaves out (for example from a down cell) are undefined. */
export interface Server {
  id: string;
  name: string;
  /** ACTIVE, BUILD, SHUTOFF, PAUSED, ERROR, DELETED, SOFT_DELETED, UNKNOWN and so on. */
  status: string;
  taskState?: string | null;
  vmState?: string;
  powerState?: number;
  tags: string[];
  /** Server metadata; Nova-Docker passes it to the container as environment variables. */
  metadata: Record<string, string>;
  addresses: ServerAddress[];
  fault?: ServerFault;
  flavor?: ServerFlavor;
  /** Image ID; undefined for servers booted from a volume. */
  imageId?: string;
  projectId?: string;
  userId?: string;
  hostId?: string;
  created?: string;
  updated?: string;
  /** The server as Nova returned it, for fields this type does not name. */
  raw: Record<string, unknown>;
}

/** A Nova flavor. */
export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  ephemeralGb?: number;
  swapMb?: number;
  isPublic?: boolean;
  description?: string;
}

/** Body fields of a server create. */
export interface CreateServerRequest {
  name: string;
  /** Glance image ID. */
  imageRef: string;
  /** Flavor ID; resolve a name first with `findFlavor`. */
  flavorRef: string;
  /**
   * `none` or `auto` (microversion 2.37), or a list of networks by UUID,
   * ports by ID, optionally with a fixed IP.
   */
  networks: 'none' | 'auto' | Array<{ uuid?: string; port?: string; fixedIp?: string }>;
  /** Server tags, set atomically with the create (microversion 2.52). */
  tags?: string[];
  metadata?: Record<string, string>;
  /** Security group names. */
  securityGroups?: string[];
  availabilityZone?: string;
  keyName?: string;
  /** User data as plain text; the client base64-encodes it. */
  userData?: string;
  configDrive?: boolean;
  description?: string;
}

/** Result of a server create. */
export interface CreatedServer {
  id: string;
  requestId?: string;
}

/** Filters of a server listing; all are optional and combine with AND. */
export interface ListServersOptions extends CallOptions {
  /** Servers that have all of these tags (microversion 2.26). */
  tags?: string[];
  /** Servers that have at least one of these tags (microversion 2.26). */
  tagsAny?: string[];
  /** Servers that do not have all of these tags. */
  notTags?: string[];
  /** Name filter; Nova matches it as a regular expression, not an exact name. */
  name?: string;
  /** Only servers changed since then, including deleted ones. */
  changesSince?: string | Date;
  status?: string;
  /** Page size; Nova caps it at its own max_limit (1000 by default). */
  limit?: number;
  /** List every project's servers (admin only). */
  allProjects?: boolean;
}

type Json = Record<string, unknown>;

/** Converts a server from Nova's JSON. */
export function toServer(raw: Json): Server {
  const server: Server = {
    id: String(raw.id),
    name: typeof raw.name === 'string' ? raw.name : '',
    status: typeof raw.status === 'string' ? raw.status : 'UNKNOWN',
    tags: Array.isArray(raw.tags) ? raw.tags.map(String) : [],
    metadata: isRecord(raw.metadata) ? stringValues(raw.metadata) : {},
    addresses: toAddresses(raw.addresses),
    raw,
  };

  if ('OS-EXT-STS:task_state' in raw)
    server.taskState = raw['OS-EXT-STS:task_state'] as string | null;
  if (typeof raw['OS-EXT-STS:vm_state'] === 'string') server.vmState = raw['OS-EXT-STS:vm_state'];
  if (typeof raw['OS-EXT-STS:power_state'] === 'number')
    server.powerState = raw['OS-EXT-STS:power_state'];
  if (isRecord(raw.fault)) {
    server.fault = {
      code: Number(raw.fault.code),
      message: String(raw.fault.message ?? ''),
      ...(typeof raw.fault.created === 'string' ? { created: raw.fault.created } : {}),
      ...(typeof raw.fault.details === 'string' ? { details: raw.fault.details } : {}),
    };
  }
  if (isRecord(raw.flavor)) server.flavor = toServerFlavor(raw.flavor);
  if (isRecord(raw.image) && typeof raw.image.id === 'string') server.imageId = raw.image.id;
  if (typeof raw.tenant_id === 'string') server.projectId = raw.tenant_id;
  if (typeof raw.user_id === 'string') server.userId = raw.user_id;
  if (typeof raw.hostId === 'string') server.hostId = raw.hostId;
  if (typeof raw.created === 'string') server.created = raw.created;
  if (typeof raw.updated === 'string') server.updated = raw.updated;
  return server;
}

function toServerFlavor(raw: Json): ServerFlavor {
  const flavor: ServerFlavor = {};
  if (typeof raw.id === 'string') flavor.id = raw.id;
  if (typeof raw.original_name === 'string') flavor.name = raw.original_name;
  if (typeof raw.vcpus === 'number') flavor.vcpus = raw.vcpus;
  if (typeof raw.ram === 'number') flavor.ramMb = raw.ram;
  if (typeof raw.disk === 'number') flavor.diskGb = raw.disk;
  return flavor;
}

function toAddresses(raw: unknown): ServerAddress[] {
  if (!isRecord(raw)) return [];
  const addresses: ServerAddress[] = [];
  for (const [network, entries] of Object.entries(raw)) {
    if (!Array.isArray(entries)) continue;
    for (const entry of entries as Json[]) {
      const address: ServerAddress = {
        network,
        ip: String(entry.addr),
        version: entry.version === 6 ? 6 : 4,
      };
      if (typeof entry['OS-EXT-IPS:type'] === 'string') address.type = entry['OS-EXT-IPS:type'];
      if (typeof entry['OS-EXT-IPS-MAC:mac_addr'] === 'string')
        address.mac = entry['OS-EXT-IPS-MAC:mac_addr'];
      addresses.push(address);
    }
  }
  return addresses;
}

/** Converts a flavor from Nova's JSON. */
export function toFlavor(raw: Json): Flavor {
  const flavor: Flavor = {
    id: String(raw.id),
    name: String(raw.name ?? ''),
    vcpus: Number(raw.vcpus ?? 0),
    ramMb: Number(raw.ram ?? 0),
    diskGb: Number(raw.disk ?? 0),
  };
  if (typeof raw['OS-FLV-EXT-DATA:ephemeral'] === 'number')
    flavor.ephemeralGb = raw['OS-FLV-EXT-DATA:ephemeral'];
  if (typeof raw.swap === 'number') flavor.swapMb = raw.swap;
  if (typeof raw['os-flavor-access:is_public'] === 'boolean')
    flavor.isPublic = raw['os-flavor-access:is_public'];
  if (typeof raw.description === 'string') flavor.description = raw.description;
  return flavor;
}

/** Builds the `server` object of a create request body. */
export function createServerBody(request: CreateServerRequest): Json {
  const server: Json = {
    name: request.name,
    imageRef: request.imageRef,
    flavorRef: request.flavorRef,
    networks:
      typeof request.networks === 'string'
        ? request.networks
        : request.networks.map((network) => ({
            ...(network.uuid === undefined ? {} : { uuid: network.uuid }),
            ...(network.port === undefined ? {} : { port: network.port }),
            ...(network.fixedIp === undefined ? {} : { fixed_ip: network.fixedIp }),
          })),
  };
  if (request.tags !== undefined && request.tags.length > 0) server.tags = request.tags;
  if (request.metadata !== undefined) server.metadata = request.metadata;
  if (request.securityGroups !== undefined)
    server.security_groups = request.securityGroups.map((name) => ({ name }));
  if (request.availabilityZone !== undefined) server.availability_zone = request.availabilityZone;
  if (request.keyName !== undefined) server.key_name = request.keyName;
  if (request.userData !== undefined)
    server.user_data = Buffer.from(request.userData).toString('base64');
  if (request.configDrive !== undefined) server.config_drive = request.configDrive;
  if (request.description !== undefined) server.description = request.description;
  return server;
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringValues(record: Json): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, String(value)]));
}
