import { randomBytes, randomUUID } from 'node:crypto';

import { ApiError } from '../http/errors.js';
import { readJson, sendEmpty, sendJson } from '../http/io.js';
import type { Router } from '../http/router.js';
import type { ServerNetwork, ServerRecord } from '../model.js';
import {
  findServer,
  idFromReference,
  novaRoute,
  viewLookups,
  type NovaDeps,
  type NovaRequest,
} from './common.js';
import { validateBody, validateServerCreate } from './validation.js';
import { serverDetail, serverStatus, serverSummary } from './views.js';

/** Nova's default max_limit: the most servers one list page returns. */
const maxLimit = 1000;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Adds server list, detail, show, create, update and delete. */
export function addServerRoutes(router: Router, deps: NovaDeps): void {
  novaRoute(router, 'GET', '/servers', async (request) => listServers(deps, request, false));
  novaRoute(router, 'GET', '/servers/detail', async (request) => listServers(deps, request, true));
  novaRoute(router, 'POST', '/servers', async (request) => createServer(deps, request));

  novaRoute(router, 'GET', '/servers/{server_id}', async (request) => {
    const server = findServer(deps, request, request.ctx.params.server_id!);
    sendJson(request.ctx.res, 200, {
      server: serverDetail(server, request.version, request.base, viewLookups(deps)),
    });
  });

  novaRoute(router, 'PUT', '/servers/{server_id}', async (request) => {
    const server = findServer(deps, request, request.ctx.params.server_id!);
    const body = await readJson(request.ctx.req);
    validateBody('serverUpdate', body);
    const changes = (body as { server: Record<string, string | null> }).server;
    if ('description' in changes && !request.version.atLeast('2.19')) {
      throw new ApiError(
        400,
        "Invalid input for field/attribute server. Value: {...}. Additional properties are not allowed ('description' was unexpected)",
      );
    }
    if (typeof changes.name === 'string') server.name = changes.name;
    if ('description' in changes) server.description = changes.description ?? null;
    if (typeof changes.accessIPv4 === 'string') server.accessIPv4 = changes.accessIPv4;
    if (typeof changes.accessIPv6 === 'string') server.accessIPv6 = changes.accessIPv6;
    server.updatedAt = new Date().toISOString();
    deps.store.markDirty();
    sendJson(request.ctx.res, 200, {
      server: serverDetail(server, request.version, request.base, viewLookups(deps)),
    });
  });

  novaRoute(router, 'DELETE', '/servers/{server_id}', async (request) => {
    const server = findServer(deps, request, request.ctx.params.server_id!);
    deps.compute.delete(server);
    request.ctx.log.info({ serverID: server.id }, 'server delete accepted');
    sendEmpty(request.ctx.res, 204);
  });
}

/** Parses a changes-since or changes-before value; throws Nova's 400 when it is not a date-time. */
function parseTime(name: string, value: string): number {
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    throw new ApiError(
      400,
      `Invalid input for query parameters ${name}. Value: ${value}. '${value}' is not a 'date-time'`,
    );
  }
  return parsed;
}

function listServers(deps: NovaDeps, request: NovaRequest, detail: boolean): void {
  const { ctx, version, base, projectId } = request;
  const query = ctx.query;

  const changesSince = query.has('changes-since')
    ? parseTime('changes-since', query.get('changes-since')!)
    : undefined;
  const changesBefore =
    version.atLeast('2.66') && query.has('changes-before')
      ? parseTime('changes-before', query.get('changes-before')!)
      : undefined;
  const limitText = query.get('limit');
  if (limitText !== null && !/^[0-9]+$/.test(limitText)) {
    throw new ApiError(
      400,
      `Invalid input for query parameters limit. Value: ${limitText}. '${limitText}' does not match '^[0-9]*$'`,
    );
  }
  const limit = Math.min(limitText === null ? maxLimit : Number(limitText), maxLimit);

  const split = (key: string): string[] | undefined =>
    version.atLeast('2.26') && query.has(key)
      ? query
          .get(key)!
          .split(',')
          .filter((tag) => tag !== '')
      : undefined;
  const tags = split('tags');
  const tagsAny = split('tags-any');
  const notTags = split('not-tags');
  const notTagsAny = split('not-tags-any');
  const name = query.get('name');
  let namePattern: RegExp | undefined;
  if (name !== null) {
    try {
      namePattern = new RegExp(name);
    } catch {
      namePattern = new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    }
  }
  const statuses = query.getAll('status').map((status) => status.toUpperCase());

  // Deleted servers show up only in changes-since queries, as in Nova.
  let servers = Object.values(deps.store.data.servers).filter((server) => {
    if (server.projectId !== projectId) return false;
    if (server.deletedAt && changesSince === undefined) return false;
    if (changesSince !== undefined && Date.parse(server.updatedAt) < changesSince) return false;
    if (changesBefore !== undefined && Date.parse(server.updatedAt) > changesBefore) return false;
    if (namePattern && !namePattern.test(server.name)) return false;
    if (statuses.length > 0 && !statuses.includes(serverStatus(server))) return false;
    if (tags && !tags.every((tag) => server.tags.includes(tag))) return false;
    if (tagsAny && !tagsAny.some((tag) => server.tags.includes(tag))) return false;
    if (notTags && notTags.every((tag) => server.tags.includes(tag))) return false;
    if (notTagsAny && notTagsAny.some((tag) => server.tags.includes(tag))) return false;
    return true;
  });

  // Nova's default order: newest first, ties broken by ID descending.
  servers.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));

  const marker = query.get('marker');
  if (marker !== null) {
    const index = servers.findIndex((server) => server.id === marker);
    if (index < 0) throw new ApiError(400, `marker [${marker}] not found`);
    servers = servers.slice(index + 1);
  }
  const page = servers.slice(0, limit);

  const lookups = viewLookups(deps);
  const body: Record<string, unknown> = {
    servers: page.map((server) =>
      detail
        ? serverDetail(server, version, base, lookups, { inList: true })
        : serverSummary(server, base),
    ),
  };
  if (page.length > 0 && page.length === limit) {
    const params = new URLSearchParams(query);
    params.set('marker', page[page.length - 1]!.id);
    body.servers_links = [
      {
        rel: 'next',
        href: `${base.versioned}/servers${detail ? '/detail' : ''}?${params.toString()}`,
      },
    ];
  }
  sendJson(ctx.res, 200, body);
}

/** Returns the hostname Nova derives from a server name: lower case, letters, digits and dashes, at most 63 characters. */
function hostnameFor(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return cleaned === '' ? 'server' : cleaned;
}

async function createServer(deps: NovaDeps, request: NovaRequest): Promise<void> {
  const { ctx, version, base, projectId } = request;
  const body = await readJson(ctx.req);
  validateServerCreate(version, body);
  const input = (body as { server: Record<string, unknown> }).server;

  const flavorId = idFromReference(input.flavorRef as string | number);
  const flavor = deps.flavor(flavorId);
  if (!flavor) throw new ApiError(400, `Flavor ${flavorId} could not be found.`);

  const imageRef = input.imageRef as string | undefined;
  if (!imageRef) throw new ApiError(400, 'Missing imageRef attribute');
  const imageId = idFromReference(imageRef);
  if (!uuidPattern.test(imageId)) throw new ApiError(400, 'Invalid imageRef provided.');
  const image = deps.image(imageId);
  if (
    !image ||
    (image.owner !== projectId && image.visibility !== 'public' && image.visibility !== 'community')
  ) {
    throw new ApiError(400, 'Can not find requested image');
  }
  if (image.status !== 'active') throw new ApiError(400, `Image ${image.id} is not active.`);

  const count = Math.max(Number(input.min_count ?? 1), Number(input.max_count ?? 1));
  if (!Number.isInteger(count) || count < 1)
    throw new ApiError(400, `Invalid min_count or max_count: ${String(input.max_count)}`);
  if (count > 1) {
    throw new ApiError(
      400,
      `The dev cloud creates one server per request; min_count/max_count ${count} is not supported.`,
    );
  }
  if (input.key_name !== undefined) throw new ApiError(400, 'Invalid key_name provided.');
  const zone = input.availability_zone as string | undefined;
  if (zone !== undefined && zone !== 'nova')
    throw new ApiError(400, 'The requested availability zone is not available');
  for (const group of (input.security_groups as Array<{ name?: string }> | undefined) ?? []) {
    if (
      group.name !== deps.fixtures.securityGroup.name &&
      group.name !== deps.fixtures.securityGroup.id
    ) {
      throw new ApiError(
        400,
        `Security group ${String(group.name)} not found for project ${projectId}.`,
      );
    }
  }
  const networkIds = requestedNetworks(deps, input.networks, projectId);
  deps.quotas.checkCreate(projectId, flavor);

  const id = randomUUID();
  const now = new Date().toISOString();
  const networks: ServerNetwork[] = networkIds.map((networkId) => ({
    networkId,
    portId: deps.networks.createPort(networkId, id, projectId).id,
  }));
  const server: ServerRecord = {
    id,
    name: input.name as string,
    projectId,
    userId: ctx.auth!.userId,
    imageId: image.id,
    flavorId: flavor.id,
    vmState: 'building',
    taskState: 'spawning',
    powerState: 0,
    metadata: (input.metadata as Record<string, string> | undefined) ?? {},
    tags: [...new Set((input.tags as string[] | undefined) ?? [])],
    networks,
    securityGroups: ['default'],
    description: (input.description as string | null | undefined) ?? null,
    keyName: null,
    accessIPv4: (input.accessIPv4 as string | undefined) ?? '',
    accessIPv6: (input.accessIPv6 as string | undefined) ?? '',
    availabilityZone: 'nova',
    hostname: (input.hostname as string | undefined) ?? hostnameFor(input.name as string),
    createdAt: now,
    updatedAt: now,
    launchedAt: null,
    deletedAt: null,
    fault: null,
    containerId: null,
  };
  deps.store.data.servers[id] = server;
  deps.store.markDirty();
  deps.compute.build(server);
  ctx.log.info(
    { serverID: id, name: server.name, image: image.name, flavor: flavor.name },
    'server create accepted',
  );

  const self = `${base.versioned}/servers/${id}`;
  sendJson(
    ctx.res,
    202,
    {
      server: {
        id,
        links: [
          { rel: 'self', href: self },
          { rel: 'bookmark', href: `${base.root}/servers/${id}` },
        ],
        'OS-DCF:diskConfig': 'MANUAL',
        security_groups: [{ name: 'default' }],
        adminPass: randomBytes(9).toString('base64url'),
      },
    },
    { Location: self },
  );
}

/**
 * Resolves the networks field to network IDs: "none" gives none, "auto" or a
 * missing field (before 2.37) gives the project's networks, a list names them by
 * uuid or port. Throws Nova's 400 for a network or port that does not exist.
 */
function requestedNetworks(deps: NovaDeps, networks: unknown, projectId: string): string[] {
  if (networks === 'none') return [];
  if (networks === undefined || networks === 'auto')
    return deps.networks.networks(projectId).map((network) => network.id);

  const ids: string[] = [];
  for (const entry of networks as Array<{
    uuid?: string;
    port?: string | null;
    fixed_ip?: string;
  }>) {
    if (entry.port) {
      throw new ApiError(400, `Port ${entry.port} could not be found.`);
    }
    if (entry.uuid === undefined) {
      throw new ApiError(400, 'Bad network format: missing uuid');
    }
    if (!uuidPattern.test(entry.uuid)) {
      throw new ApiError(
        400,
        `Bad networks format: network uuid is not in proper format (${entry.uuid})`,
      );
    }
    const network = deps.networks.network(entry.uuid);
    if (!network || !deps.networks.networks(projectId).includes(network)) {
      throw new ApiError(400, `Network ${entry.uuid} could not be found.`);
    }
    if (ids.includes(network.id)) {
      throw new ApiError(400, `Network ${network.id} is duplicated.`);
    }
    ids.push(network.id);
  }
  return ids;
}
