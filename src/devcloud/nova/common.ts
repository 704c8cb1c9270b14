import type { ComputeManager } from '../compute/manager.js';
import type { Fixtures } from '../fixtures.js';
import { ApiError } from '../http/errors.js';
import type { RequestContext, Router } from '../http/router.js';
import type { FlavorRecord, ImageRecord, ServerRecord, VmState } from '../model.js';
import type { NetworkService } from '../neutron.js';
import type { QuotaService } from '../quotas.js';
import type { StateStore } from '../state.js';
import { negotiateMicroversion, type Microversion } from './microversion.js';
import type { LinkBase, ViewLookups } from './views.js';

/** Dependencies of the Nova routes. */
export interface NovaDeps {
  store: StateStore;
  fixtures: Fixtures;
  networks: NetworkService;
  quotas: QuotaService;
  compute: ComputeManager;
  flavor(id: string): FlavorRecord | undefined;
  image(id: string): ImageRecord | undefined;
}

/** One Nova API call: the request context, the negotiated microversion and the base for links. */
export interface NovaRequest {
  ctx: RequestContext;
  version: Microversion;
  base: LinkBase;
  projectId: string;
}

export type NovaHandler = (request: NovaRequest) => Promise<void>;

/**
 * Registers a Nova route under /v2.1 and under the legacy /v2.1/{project_id}
 * form, negotiating the microversion first. A project ID in the URL must match
 * the token's project. minVersion makes the route 404 below that version, as
 * Nova does for methods added in a later microversion.
 */
export function novaRoute(
  router: Router,
  method: string,
  template: string,
  handler: NovaHandler,
  options: { minVersion?: string } = {},
): void {
  for (const prefix of ['/v2.1', '/v2.1/{project_id}']) {
    router.add(method, `${prefix}${template}`, async (ctx) => {
      const version = negotiateMicroversion(ctx.req, ctx.res);
      if (options.minVersion && !version.atLeast(options.minVersion)) {
        throw new ApiError(404, 'The resource could not be found.');
      }
      const projectId = ctx.auth!.projectId;
      const urlProject = ctx.params.project_id;
      if (urlProject !== undefined && urlProject !== projectId) {
        throw new ApiError(
          400,
          `Malformed request URL: URL's project_id '${urlProject}' doesn't match Context's project_id '${projectId}'`,
        );
      }
      const versioned = urlProject
        ? `${ctx.serviceUrl}/v2.1/${urlProject}`
        : `${ctx.serviceUrl}/v2.1`;
      await handler({ ctx, version, base: { root: ctx.serviceUrl, versioned }, projectId });
    });
  }
}

/** Returns the caller's server; throws Nova's 404 when it does not exist, was deleted or belongs to another project. */
export function findServer(deps: NovaDeps, request: NovaRequest, id: string): ServerRecord {
  const server = deps.store.data.servers[id];
  if (!server || server.deletedAt || server.projectId !== request.projectId) {
    throw new ApiError(404, `Instance ${id} could not be found.`);
  }
  return server;
}

/**
 * Throws Nova's 409 unless the server is in one of the vm_states and has no task
 * running. The action is the name Nova puts in the message, such as "stop".
 */
export function requireState(
  server: ServerRecord,
  action: string,
  vmStates: VmState[],
  options: { allowTask?: boolean } = {},
): void {
  if (!vmStates.includes(server.vmState)) {
    throw new ApiError(
      409,
      `Cannot '${action}' instance ${server.id} while it is in vm_state ${server.vmState}`,
    );
  }
  if (!options.allowTask && server.taskState !== null) {
    throw new ApiError(
      409,
      `Cannot '${action}' instance ${server.id} while it is in task_state ${server.taskState}`,
    );
  }
}

/** Returns the lookups the server views need. */
export function viewLookups(deps: NovaDeps): ViewLookups {
  return {
    flavor: deps.flavor,
    port: (id) => deps.networks.port(id),
    networkName: (id) => deps.networks.network(id)?.name,
  };
}

/** Returns the last path segment of a reference that may be an ID or a link to one. */
export function idFromReference(reference: string | number): string {
  const text = String(reference);
  return text.includes('/') ? (text.replace(/\/+$/, '').split('/').pop() ?? '') : text;
}
