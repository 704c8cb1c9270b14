import { createHash } from 'node:crypto';

import type { FlavorRecord, PortRecord, ServerRecord } from '../model.js';
import type { Microversion } from './microversion.js';

/** Link bases of a response: the compute root and the versioned base the client used. */
export interface LinkBase {
  /** Compute service root, such as http://127.0.0.1:8800/compute. */
  root: string;
  /** Versioned base, such as <root>/v2.1 or <root>/v2.1/<project id> on the legacy path. */
  versioned: string;
}

/** Lookups the views need besides the server itself. */
export interface ViewLookups {
  flavor(id: string): FlavorRecord | undefined;
  port(id: string): PortRecord | undefined;
  networkName(id: string): string | undefined;
}

/** The name of the compute host every server runs on. */
export const computeHost = 'devcloud';

/** Maps vm_state and task_state to the API status, as Nova's common.status_from_state does. */
export function serverStatus(server: ServerRecord): string {
  switch (server.vmState) {
    case 'building':
      return 'BUILD';
    case 'active':
      if (server.taskState === 'rebooting') return 'REBOOT';
      if (server.taskState === 'rebooting_hard') return 'HARD_REBOOT';
      if (server.taskState === 'rebuilding') return 'REBUILD';
      return 'ACTIVE';
    case 'stopped':
      return server.taskState === 'rebuilding' ? 'REBUILD' : 'SHUTOFF';
    case 'paused':
      return 'PAUSED';
    case 'suspended':
      return 'SUSPENDED';
    case 'shelved':
      return 'SHELVED';
    case 'shelved_offloaded':
      return 'SHELVED_OFFLOADED';
    case 'error':
      return server.taskState === 'rebuilding' ? 'REBUILD' : 'ERROR';
    case 'deleted':
      return 'DELETED';
  }
}

/** Nova's timestamp format for created and updated: whole seconds with Z. */
export function novaTime(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}

/** Nova's format for launched_at and terminated_at: microseconds and no zone. */
function usageTime(iso: string | null): string | null {
  return iso === null ? null : iso.replace(/\.(\d{3})Z$/, '.$1000');
}

function links(
  base: LinkBase,
  collection: string,
  id: string,
): Array<{ rel: string; href: string }> {
  return [
    { rel: 'self', href: `${base.versioned}/${collection}/${id}` },
    { rel: 'bookmark', href: `${base.root}/${collection}/${id}` },
  ];
}

/** Returns the entry of GET /servers (not detail): id, name and links. */
export function serverSummary(server: ServerRecord, base: LinkBase): Record<string, unknown> {
  return { id: server.id, name: server.name, links: links(base, 'servers', server.id) };
}

/** Returns a server as GET /servers/{id} shows it at the given microversion. */
export function serverDetail(
  server: ServerRecord,
  version: Microversion,
  base: LinkBase,
  lookups: ViewLookups,
  options: { inList?: boolean } = {},
): Record<string, unknown> {
  const status = serverStatus(server);
  const flavor = lookups.flavor(server.flavorId);
  const scheduled = server.vmState !== 'building' || server.containerId !== null;
  const view: Record<string, unknown> = {
    id: server.id,
    name: server.name,
    status,
    tenant_id: server.projectId,
    user_id: server.userId,
    metadata: server.metadata,
    hostId: scheduled
      ? createHash('sha224')
          .update(server.projectId + computeHost)
          .digest('hex')
      : '',
    image: {
      id: server.imageId,
      links: [{ rel: 'bookmark', href: `${base.root}/images/${server.imageId}` }],
    },
    flavor: flavorReference(server, flavor, version, base),
    created: novaTime(server.createdAt),
    updated: novaTime(server.updatedAt),
    addresses: addresses(server, lookups),
    accessIPv4: server.accessIPv4,
    accessIPv6: server.accessIPv6,
    links: links(base, 'servers', server.id),
    'OS-DCF:diskConfig': 'MANUAL',
    'OS-EXT-AZ:availability_zone': scheduled ? server.availabilityZone : '',
    config_drive: '',
    key_name: server.keyName,
    'OS-SRV-USG:launched_at': usageTime(server.launchedAt),
    'OS-SRV-USG:terminated_at': usageTime(server.deletedAt),
    'OS-EXT-STS:task_state': server.taskState,
    'OS-EXT-STS:vm_state': server.vmState,
    'OS-EXT-STS:power_state': server.powerState,
    'os-extended-volumes:volumes_attached': [],
  };

  if (['ACTIVE', 'BUILD', 'REBUILD'].includes(status))
    view.progress = status === 'ACTIVE' ? 100 : 0;
  if (server.networks.length > 0)
    view.security_groups = server.securityGroups.map((name) => ({ name }));
  if ((status === 'ERROR' || status === 'DELETED') && server.fault) {
    const { code, message, created, details } = server.fault;
    view.fault = {
      code,
      message,
      created: novaTime(created),
      ...(details && code !== 500 ? { details } : {}),
    };
  }
  if (version.atLeast('2.9')) view.locked = false;
  if (version.atLeast('2.19')) view.description = server.description;
  if (version.atLeast('2.26')) view.tags = server.tags;
  if (version.atLeast('2.63')) view.trusted_image_certificates = null;
  if (version.atLeast('2.71') && !options.inList) view.server_groups = [];
  if (version.atLeast('2.73')) view.locked_reason = null;
  if (version.atLeast('2.90')) view['OS-EXT-SRV-ATTR:hostname'] = server.hostname;
  return view;
}

function flavorReference(
  server: ServerRecord,
  flavor: FlavorRecord | undefined,
  version: Microversion,
  base: LinkBase,
): Record<string, unknown> {
  if (!version.atLeast('2.47')) {
    return {
      id: server.flavorId,
      links: [{ rel: 'bookmark', href: `${base.root}/flavors/${server.flavorId}` }],
    };
  }
  return {
    vcpus: flavor?.vcpus ?? 0,
    ram: flavor?.ram ?? 0,
    disk: flavor?.disk ?? 0,
    ephemeral: flavor?.ephemeral ?? 0,
    swap: flavor?.swap ?? 0,
    original_name: flavor?.name ?? server.flavorId,
    extra_specs: {},
  };
}

/** Returns the addresses map: network name to fixed IPv4 addresses with MAC. */
export function addresses(server: ServerRecord, lookups: ViewLookups): Record<string, unknown[]> {
  const result: Record<string, unknown[]> = {};
  for (const attachment of server.networks) {
    const port = lookups.port(attachment.portId);
    const name = lookups.networkName(attachment.networkId);
    if (!port?.ipAddress || !name) continue;
    (result[name] ??= []).push({
      version: 4,
      addr: port.ipAddress,
      'OS-EXT-IPS:type': 'fixed',
      'OS-EXT-IPS-MAC:mac_addr': port.macAddress,
    });
  }
  return result;
}

/** Returns a flavor as GET /flavors/{id} shows it at the given microversion. */
export function flavorDetail(
  flavor: FlavorRecord,
  version: Microversion,
  base: LinkBase,
): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: flavor.id,
    name: flavor.name,
    ram: flavor.ram,
    disk: flavor.disk,
    vcpus: flavor.vcpus,
    'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeral,
    'OS-FLV-DISABLED:disabled': false,
    swap: flavor.swap,
    rxtx_factor: 1.0,
    'os-flavor-access:is_public': true,
    links: links(base, 'flavors', flavor.id),
  };
  // Before 2.75 Nova shows a swap of 0 as an empty string.
  if (!version.atLeast('2.75') && flavor.swap === 0) view.swap = '';
  if (version.atLeast('2.55')) view.description = flavor.description;
  if (version.atLeast('2.61')) view.extra_specs = {};
  return view;
}

/** Returns the entry of GET /flavors (not detail). */
export function flavorSummary(
  flavor: FlavorRecord,
  version: Microversion,
  base: LinkBase,
): Record<string, unknown> {
  return {
    id: flavor.id,
    name: flavor.name,
    links: links(base, 'flavors', flavor.id),
    ...(version.atLeast('2.55') ? { description: flavor.description } : {}),
  };
}
