import { randomBytes } from 'node:crypto';

import { ApiError } from '../http/errors.js';
import { readJson, sendEmpty, sendJson } from '../http/io.js';
import type { Router } from '../http/router.js';
import type { ServerAction } from '../compute/manager.js';
import type { ServerRecord, VmState } from '../model.js';
import {
  findServer,
  idFromReference,
  novaRoute,
  requireState,
  viewLookups,
  type NovaDeps,
  type NovaRequest,
} from './common.js';
import { validateBody, validateRebuild, validateUnshelve } from './validation.js';
import { computeHost, serverDetail } from './views.js';

type ActionHandler = (
  deps: NovaDeps,
  request: NovaRequest,
  server: ServerRecord,
  body: Record<string, unknown>,
) => Promise<void>;

/** Actions without a body: only the vm_state decides whether Nova accepts them. */
type PlainActionKind = Exclude<ServerAction['kind'], 'reboot' | 'rebuild' | 'unshelve'>;

/** Returns the handler of a plain action: it checks the vm_state as Nova does, queues the action and responds 202. */
function plainAction(kind: PlainActionKind, vmStates: VmState[]): ActionHandler {
  return async (deps, request, server) => {
    requireState(server, kind, vmStates);
    deps.compute.act(server, { kind });
    sendEmpty(request.ctx.res, 202);
  };
}

/** The server actions the dev cloud supports, keyed by the action's body key. */
const actions: Record<string, ActionHandler> = {
  'os-start': plainAction('start', ['stopped']),
  'os-stop': plainAction('stop', ['active', 'error']),
  pause: plainAction('pause', ['active']),
  unpause: plainAction('unpause', ['paused']),
  suspend: plainAction('suspend', ['active']),
  resume: plainAction('resume', ['suspended']),
  shelve: plainAction('shelve', ['active', 'stopped', 'paused', 'suspended']),
  shelveOffload: plainAction('shelveOffload', ['shelved']),
  unshelve: async (deps, request, server, body) => {
    validateUnshelve(request.version, body);
    requireState(server, 'unshelve', ['shelved', 'shelved_offloaded']);
    checkUnshelveTarget(request, server, body.unshelve);
    deps.compute.act(server, { kind: 'unshelve' });
    sendEmpty(request.ctx.res, 202);
  },
  reboot: async (deps, request, server, body) => {
    validateBody('reboot', body);
    const hard = (body.reboot as { type: string }).type.toUpperCase() === 'HARD';
    // Nova allows a soft reboot only from ACTIVE; a hard reboot also recovers stopped, paused and errored servers.
    requireState(server, 'reboot', hard ? ['active', 'stopped', 'paused', 'error'] : ['active']);
    deps.compute.act(server, { kind: 'reboot', hard });
    sendEmpty(request.ctx.res, 202);
  },
  rebuild: async (deps, request, server, body) => {
    validateRebuild(request.version, body);
    const input = body.rebuild as Record<string, unknown>;
    requireState(server, 'rebuild', ['active', 'stopped', 'error']);
    const image = deps.image(idFromReference(input.imageRef as string));
    if (!image || (image.owner !== request.projectId && image.visibility !== 'public')) {
      throw new ApiError(400, 'Cannot find image for rebuild');
    }
    if (image.status !== 'active') throw new ApiError(400, `Image ${image.id} is not active.`);

    server.imageId = image.id;
    if (typeof input.name === 'string') server.name = input.name;
    if (input.metadata !== undefined) server.metadata = input.metadata as Record<string, string>;
    if ('description' in input) server.description = (input.description as string | null) ?? null;
    if (typeof input.accessIPv4 === 'string') server.accessIPv4 = input.accessIPv4;
    if (typeof input.accessIPv6 === 'string') server.accessIPv6 = input.accessIPv6;
    if (typeof input.hostname === 'string') server.hostname = input.hostname;
    server.fault = null;
    deps.compute.act(server, { kind: 'rebuild' });

    const view = serverDetail(server, request.version, request.base, viewLookups(deps));
    view.adminPass =
      (input.adminPass as string | undefined) ?? randomBytes(9).toString('base64url');
    sendJson(request.ctx.res, 202, { server: view });
  },
  'os-getConsoleOutput': async (deps, request, server, body) => {
    validateBody('consoleOutput', body);
    const length = (body['os-getConsoleOutput'] as { length?: string | number | null }).length;
    const lines =
      length === undefined || length === null || Number(length) === -1 ? undefined : Number(length);
    if (lines !== undefined && lines < -1) {
      throw new ApiError(
        400,
        `Invalid input for field/attribute length. Value: ${length}. ${length} is less than the minimum of -1`,
      );
    }
    if (!server.containerId)
      throw new ApiError(409, `Instance ${server.id} has not been created yet.`);
    let output: string;
    try {
      output = await deps.compute.consoleOutput(server, lines);
    } catch (err) {
      throw new ApiError(
        409,
        `Console output of instance ${server.id} is not available: ${(err as Error).message}`,
      );
    }
    sendJson(request.ctx.res, 200, { output });
  },
};

/**
 * Checks the zone and host an unshelve names (from 2.77 and 2.91), as Nova
 * does: only an offloaded server may name them, the zone must exist and the
 * host must be the dev cloud's one compute host. Throws Nova's 409 or 400.
 * NOTE: Nova allows a host only to admins; the dev cloud does not check that policy.
 */
function checkUnshelveTarget(request: NovaRequest, server: ServerRecord, target: unknown): void {
  if (typeof target !== 'object' || target === null) return;
  const { availability_zone: zone, host } = target as {
    availability_zone?: unknown;
    host?: unknown;
  };
  const namesZone = request.version.atLeast('2.77') && zone !== undefined;
  const namesHost = request.version.atLeast('2.91') && host !== undefined;
  if (!namesZone && !namesHost) return;
  if (server.vmState !== 'shelved_offloaded') {
    throw new ApiError(
      409,
      `Specifying an availability zone or a host when unshelving server "${server.id}" with status "${server.vmState}" is not supported. The server status must be SHELVED_OFFLOADED.`,
    );
  }
  if (typeof zone === 'string' && zone !== server.availabilityZone) {
    throw new ApiError(400, 'The requested availability zone is not available');
  }
  if (namesHost && host !== computeHost) {
    throw new ApiError(400, `Compute host ${String(host)} could not be found.`);
  }
}

/** Adds POST /servers/{server_id}/action with the power, suspend and shelve actions, rebuild and os-getConsoleOutput. */
export function addActionRoutes(router: Router, deps: NovaDeps): void {
  novaRoute(router, 'POST', '/servers/{server_id}/action', async (request) => {
    const server = findServer(deps, request, request.ctx.params.server_id!);
    const body = await readJson(request.ctx.req);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiError(400, 'Malformed request body');
    }
    const [name] = Object.keys(body);
    const handler = name === undefined ? undefined : actions[name];
    if (!handler) throw new ApiError(400, `There is no such action: ${name ?? ''}`);
    request.ctx.log.info({ serverID: server.id, action: name }, 'server action accepted');
    await handler(deps, request, server, body as Record<string, unknown>);
  });
}
