import { ApiError } from '../http/errors.js';
import { readJson, sendEmpty, sendJson } from '../http/io.js';
import type { Router } from '../http/router.js';
import type { ServerRecord, VmState } from '../model.js';
import { findServer, novaRoute, requireState, type NovaDeps, type NovaRequest } from './common.js';
import { validateBody } from './validation.js';

/** Nova's per-server limits: 50 tags and 128 metadata items. */
const maxTags = 50;
const maxMetadataItems = 128;

/** vm_states in which Nova lets tags and metadata change. */
const editableStates: VmState[] = ['active', 'paused', 'suspended', 'stopped'];

function touch(deps: NovaDeps, server: ServerRecord): void {
  server.updatedAt = new Date().toISOString();
  deps.store.markDirty();
}

/** Adds the server tag routes, available from microversion 2.26. */
export function addTagRoutes(router: Router, deps: NovaDeps): void {
  const server = (request: NovaRequest): ServerRecord =>
    findServer(deps, request, request.ctx.params.server_id!);
  const options = { minVersion: '2.26' };

  novaRoute(
    router,
    'GET',
    '/servers/{server_id}/tags',
    async (request) => {
      sendJson(request.ctx.res, 200, { tags: server(request).tags });
    },
    options,
  );

  novaRoute(
    router,
    'PUT',
    '/servers/{server_id}/tags',
    async (request) => {
      const target = server(request);
      const body = await readJson(request.ctx.req);
      requireState(target, 'update tags', editableStates, { allowTask: true });
      validateBody('tags', body);
      target.tags = [...new Set((body as { tags: string[] }).tags)];
      touch(deps, target);
      sendJson(request.ctx.res, 200, { tags: target.tags });
    },
    options,
  );

  novaRoute(
    router,
    'DELETE',
    '/servers/{server_id}/tags',
    async (request) => {
      const target = server(request);
      requireState(target, 'delete tags', editableStates, { allowTask: true });
      target.tags = [];
      touch(deps, target);
      sendEmpty(request.ctx.res, 204);
    },
    options,
  );

  novaRoute(
    router,
    'GET',
    '/servers/{server_id}/tags/{tag}',
    async (request) => {
      const { tag } = request.ctx.params;
      const target = server(request);
      if (!target.tags.includes(tag!))
        throw new ApiError(404, `Server ${target.id} has no tag '${tag}'`);
      sendEmpty(request.ctx.res, 204);
    },
    options,
  );

  novaRoute(
    router,
    'PUT',
    '/servers/{server_id}/tags/{tag}',
    async (request) => {
      const target = server(request);
      const tag = request.ctx.params.tag!;
      requireState(target, 'update tag', editableStates, { allowTask: true });
      if (tag.length > 60 || tag.includes(',') || tag.includes('/')) {
        throw new ApiError(
          400,
          `Tag '${tag}' is invalid: tags are 1 to 60 characters without '/' or ','.`,
        );
      }
      if (target.tags.includes(tag)) {
        sendEmpty(request.ctx.res, 204);
        return;
      }
      if (target.tags.length >= maxTags) {
        throw new ApiError(400, `The number of tags exceeded the per-server limit ${maxTags}`);
      }
      target.tags.push(tag);
      touch(deps, target);
      sendEmpty(request.ctx.res, 201, {
        Location: `${request.base.versioned}/servers/${target.id}/tags/${encodeURIComponent(tag)}`,
      });
    },
    options,
  );

  novaRoute(
    router,
    'DELETE',
    '/servers/{server_id}/tags/{tag}',
    async (request) => {
      const target = server(request);
      const tag = request.ctx.params.tag!;
      requireState(target, 'delete tag', editableStates, { allowTask: true });
      if (!target.tags.includes(tag))
        throw new ApiError(404, `Server ${target.id} has no tag '${tag}'`);
      target.tags = target.tags.filter((candidate) => candidate !== tag);
      touch(deps, target);
      sendEmpty(request.ctx.res, 204);
    },
    options,
  );
}

/**
 * Adds the server metadata routes. Metadata becomes the container's environment
 * when the container is created, so changes apply at the next rebuild.
 */
export function addMetadataRoutes(router: Router, deps: NovaDeps): void {
  const server = (request: NovaRequest): ServerRecord =>
    findServer(deps, request, request.ctx.params.server_id!);
  const save = (target: ServerRecord, metadata: Record<string, string>): void => {
    if (Object.keys(metadata).length > maxMetadataItems) {
      throw new ApiError(403, `Maximum number of metadata items exceeds ${maxMetadataItems}`);
    }
    target.metadata = metadata;
    touch(deps, target);
  };

  novaRoute(router, 'GET', '/servers/{server_id}/metadata', async (request) => {
    sendJson(request.ctx.res, 200, { metadata: server(request).metadata });
  });

  for (const method of ['POST', 'PUT'] as const) {
    novaRoute(router, method, '/servers/{server_id}/metadata', async (request) => {
      const target = server(request);
      const body = await readJson(request.ctx.req);
      validateBody('metadata', body);
      requireState(target, 'update metadata', editableStates);
      const incoming = (body as { metadata: Record<string, string> }).metadata;
      save(target, method === 'POST' ? { ...target.metadata, ...incoming } : incoming);
      sendJson(request.ctx.res, 200, { metadata: target.metadata });
    });
  }

  novaRoute(router, 'GET', '/servers/{server_id}/metadata/{key}', async (request) => {
    const key = request.ctx.params.key!;
    const metadata = server(request).metadata;
    if (!(key in metadata)) throw new ApiError(404, 'Metadata item was not found');
    sendJson(request.ctx.res, 200, { meta: { [key]: metadata[key] } });
  });

  novaRoute(router, 'PUT', '/servers/{server_id}/metadata/{key}', async (request) => {
    const target = server(request);
    const key = request.ctx.params.key!;
    const body = await readJson(request.ctx.req);
    validateBody('metadataItem', body);
    const meta = (body as { meta: Record<string, string> }).meta;
    if (!(key in meta)) throw new ApiError(400, 'Request body and URI mismatch');
    requireState(target, 'update metadata', editableStates);
    save(target, { ...target.metadata, [key]: meta[key]! });
    sendJson(request.ctx.res, 200, { meta: { [key]: meta[key] } });
  });

  novaRoute(router, 'DELETE', '/servers/{server_id}/metadata/{key}', async (request) => {
    const target = server(request);
    const key = request.ctx.params.key!;
    if (!(key in target.metadata)) throw new ApiError(404, 'Metadata item was not found');
    requireState(target, 'delete metadata', editableStates);
    const rest = { ...target.metadata };
    delete rest[key];
    save(target, rest);
    sendEmpty(request.ctx.res, 204);
  });
}
