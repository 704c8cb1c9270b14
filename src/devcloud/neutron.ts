import { randomBytes, randomUUID } from 'node:crypto';

import { formatIpv4, parseCidr } from './config.js';
import type { Fixtures } from './fixtures.js';
import { notFound } from './http/errors.js';
import { sendJson } from './http/io.js';
import { Router, type RequestContext } from './http/router.js';
import type { NetworkRecord, PortRecord } from './model.js';
import type { StateStore } from './state.js';

/**
 * Neutron's part of the dev cloud: the fixture network with its subnet and
 * security group, and one port per server and network. Ports get an address
 * from the compute driver (Docker's IPAM) or, in fake address mode, the next
 * free address of the subnet's allocation pool.
 */
export class NetworkService {
  constructor(
    private readonly fixtures: Fixtures,
    private readonly store: StateStore,
  ) {}

  /** Returns the networks a project can use. */
  networks(projectId: string): NetworkRecord[] {
    const { network } = this.fixtures;
    return network.projectId === projectId || network.shared ? [network] : [];
  }

  /** Returns a network by ID, or undefined. */
  network(id: string): NetworkRecord | undefined {
    return this.fixtures.network.id === id ? this.fixtures.network : undefined;
  }

  /** Creates a port for a server on a network, without an address yet. */
  createPort(networkId: string, serverId: string, projectId: string): PortRecord {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const mac = ['fa', '16', '3e', ...randomBytes(3).toString('hex').match(/../g)!].join(':');
    const port: PortRecord = {
      id: randomUUID(),
      networkId,
      subnetId: this.fixtures.subnet.id,
      projectId,
      deviceId: serverId,
      deviceOwner: 'compute:nova',
      macAddress: mac,
      ipAddress: null,
      status: 'DOWN',
      createdAt: now,
      updatedAt: now,
    };
    this.store.data.ports[port.id] = port;
    this.store.markDirty();
    return port;
  }

  /** Returns a port by ID, or undefined. */
  port(id: string): PortRecord | undefined {
    return this.store.data.ports[id];
  }

  /** Gives a port the next free address of the subnet's allocation pool; throws when the pool is exhausted. */
  allocateFakeAddress(port: PortRecord): string {
    if (port.ipAddress) return port.ipAddress;
    const { subnet } = this.fixtures;
    const used = new Set(
      Object.values(this.store.data.ports).map((candidate) => candidate.ipAddress),
    );
    const { base, prefix } = parseCidr(subnet.cidr);
    const last = base + 2 ** (32 - prefix) - 2;
    for (let address = base + 2; address <= last; address++) {
      const text = formatIpv4(address);
      if (!used.has(text)) {
        this.setAddress(port, text, port.macAddress);
        return text;
      }
    }
    throw new Error(
      `no free address left in subnet ${subnet.cidr} of network ${this.fixtures.network.name}; delete servers or start the dev cloud with a larger --network-cidr`,
    );
  }

  /** Records the address and MAC the compute driver reported for a port and marks it ACTIVE. */
  setAddress(port: PortRecord, ipAddress: string | null, macAddress: string): void {
    port.ipAddress = ipAddress;
    port.macAddress = macAddress;
    port.status = 'ACTIVE';
    port.updatedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.store.markDirty();
  }

  /** Deletes a server's ports. */
  deletePorts(serverId: string): void {
    for (const [id, port] of Object.entries(this.store.data.ports)) {
      if (port.deviceId === serverId) delete this.store.data.ports[id];
    }
    this.store.markDirty();
  }
}

/** Builds the Neutron v2.0 read routes: networks, subnets, ports and security groups. */
export function neutronRouter(
  fixtures: Fixtures,
  networks: NetworkService,
  store: StateStore,
): Router {
  const router = new Router();
  router.add(
    'GET',
    '/',
    async (ctx) => {
      sendJson(ctx.res, 200, {
        versions: [
          {
            id: 'v2.0',
            status: 'CURRENT',
            links: [{ rel: 'self', href: `${ctx.serviceUrl}/v2.0/` }],
          },
        ],
      });
    },
    { public: true },
  );

  router.add('GET', '/v2.0/networks', async (ctx) => {
    const items = networks.networks(ctx.auth!.projectId).map(networkView);
    sendJson(ctx.res, 200, paginate(ctx, 'networks', filter(items, ctx.query)));
  });
  router.add('GET', '/v2.0/networks/{network_id}', async (ctx) => {
    const network = networks.network(ctx.params.network_id!);
    if (!network)
      throw notFound(`Network ${ctx.params.network_id} could not be found.`, 'NetworkNotFound');
    sendJson(ctx.res, 200, { network: networkView(network) });
  });

  const subnetView = () => {
    const { subnet } = fixtures;
    return {
      id: subnet.id,
      name: subnet.name,
      network_id: subnet.networkId,
      tenant_id: subnet.projectId,
      project_id: subnet.projectId,
      ip_version: 4,
      cidr: subnet.cidr,
      gateway_ip: subnet.gatewayIp,
      allocation_pools: [{ start: subnet.allocationStart, end: subnet.allocationEnd }],
      enable_dhcp: true,
      dns_nameservers: [],
      host_routes: [],
      description: '',
      tags: [],
    };
  };
  router.add('GET', '/v2.0/subnets', async (ctx) => {
    sendJson(ctx.res, 200, { subnets: filter([subnetView()], ctx.query) });
  });
  router.add('GET', '/v2.0/subnets/{subnet_id}', async (ctx) => {
    if (ctx.params.subnet_id !== fixtures.subnet.id) {
      throw notFound(`Subnet ${ctx.params.subnet_id} could not be found.`, 'SubnetNotFound');
    }
    sendJson(ctx.res, 200, { subnet: subnetView() });
  });

  router.add('GET', '/v2.0/ports', async (ctx) => {
    const items = Object.values(store.data.ports)
      .filter((port) => port.projectId === ctx.auth!.projectId)
      .map((port) => portView(port, fixtures));
    sendJson(ctx.res, 200, paginate(ctx, 'ports', filter(items, ctx.query)));
  });
  router.add('GET', '/v2.0/ports/{port_id}', async (ctx) => {
    const port = networks.port(ctx.params.port_id!);
    if (!port) throw notFound(`Port ${ctx.params.port_id} could not be found.`, 'PortNotFound');
    sendJson(ctx.res, 200, { port: portView(port, fixtures) });
  });

  const securityGroupView = () => {
    const group = fixtures.securityGroup;
    return {
      id: group.id,
      name: group.name,
      description: group.description,
      tenant_id: group.projectId,
      project_id: group.projectId,
      security_group_rules: [],
      stateful: true,
      tags: [],
    };
  };
  router.add('GET', '/v2.0/security-groups', async (ctx) => {
    sendJson(ctx.res, 200, { security_groups: filter([securityGroupView()], ctx.query) });
  });
  router.add('GET', '/v2.0/security-groups/{group_id}', async (ctx) => {
    if (ctx.params.group_id !== fixtures.securityGroup.id) {
      throw notFound(
        `Security group ${ctx.params.group_id} does not exist`,
        'SecurityGroupNotFound',
      );
    }
    sendJson(ctx.res, 200, { security_group: securityGroupView() });
  });
  return router;
}

function networkView(network: NetworkRecord): Record<string, unknown> {
  return {
    id: network.id,
    name: network.name,
    status: 'ACTIVE',
    admin_state_up: true,
    subnets: [network.subnetId],
    tenant_id: network.projectId,
    project_id: network.projectId,
    shared: network.shared,
    'router:external': false,
    mtu: network.mtu,
    description: '',
    tags: [],
    created_at: network.createdAt,
    updated_at: network.createdAt,
  };
}

function portView(port: PortRecord, fixtures: Fixtures): Record<string, unknown> {
  return {
    id: port.id,
    name: '',
    network_id: port.networkId,
    tenant_id: port.projectId,
    project_id: port.projectId,
    device_id: port.deviceId,
    device_owner: port.deviceOwner,
    mac_address: port.macAddress,
    fixed_ips: port.ipAddress ? [{ subnet_id: port.subnetId, ip_address: port.ipAddress }] : [],
    status: port.status,
    admin_state_up: true,
    security_groups: [fixtures.securityGroup.id],
    binding_vnic_type: 'normal',
    description: '',
    tags: [],
    created_at: port.createdAt,
    updated_at: port.updatedAt,
  };
}

/** Neutron filters: any query key other than paging and fields must equal the resource's value. */
function filter<T extends Record<string, unknown>>(items: T[], query: URLSearchParams): T[] {
  const ignored = new Set(['limit', 'marker', 'fields', 'sort_key', 'sort_dir', 'page_reverse']);
  return items.filter((item) =>
    [...new Set(query.keys())].every((key) => {
      if (ignored.has(key) || !(key in item)) return true;
      return query.getAll(key).some((value) => String(item[key]) === value);
    }),
  );
}

/**
 * Returns one page of a collection as Neutron does: limit and marker select the
 * page, and a full page gets a <collection>_links entry with rel next.
 */
function paginate<T extends { id?: unknown }>(
  ctx: RequestContext,
  collection: string,
  items: T[],
): Record<string, unknown> {
  const marker = ctx.query.get('marker');
  let start = 0;
  if (marker) start = items.findIndex((item) => item.id === marker) + 1;
  const limit = Number(ctx.query.get('limit') ?? '0');
  const page = limit > 0 ? items.slice(start, start + limit) : items.slice(start);

  const body: Record<string, unknown> = { [collection]: page };
  if (limit > 0 && page.length === limit) {
    const params = new URLSearchParams(ctx.query);
    params.set('marker', String(page[page.length - 1]!.id));
    body[`${collection}_links`] = [
      { rel: 'next', href: `${ctx.serviceUrl}/v2.0/${collection}?${params.toString()}` },
    ];
  }
  return body;
}
