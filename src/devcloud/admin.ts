import type { ComputeManager } from './compute/manager.js';
import type { ConfigOverrides } from './config.js';
import type { FaultInjector } from './faults.js';
import { ApiError } from './http/errors.js';
import { readJson, sendJson } from './http/io.js';
import { Router } from './http/router.js';
import type { QuotaService } from './quotas.js';
import type { RequestStats } from './stats.js';
import type { StateStore } from './state.js';

/** Dependencies of the admin endpoint: the state it reads and the settings it changes. */
export interface AdminDeps {
  stats: RequestStats;
  faults: FaultInjector;
  quotas: QuotaService;
  store: StateStore;
  compute: ComputeManager;
  driverName: string;
}

/**
 * Builds the admin endpoint, which is not part of OpenStack: request counts by
 * service, method and route (benchmarks read them), fault settings and quotas
 * to change at run time, and a health check. It needs no token, so it listens
 * only where the APIs listen.
 */
export function adminRouter(deps: AdminDeps): Router {
  const router = new Router();
  const open = { public: true };

  router.add(
    'GET',
    '/healthz',
    async (ctx) => {
      sendJson(ctx.res, 200, { status: 'ok', driver: deps.driverName });
    },
    open,
  );

  router.add(
    'GET',
    '/stats',
    async (ctx) => {
      sendJson(ctx.res, 200, deps.stats.snapshot());
    },
    open,
  );
  router.add(
    'DELETE',
    '/stats',
    async (ctx) => {
      deps.stats.reset();
      sendJson(ctx.res, 200, deps.stats.snapshot());
    },
    open,
  );

  router.add(
    'GET',
    '/faults',
    async (ctx) => {
      sendJson(ctx.res, 200, deps.faults.current());
    },
    open,
  );
  router.add(
    'PATCH',
    '/faults',
    async (ctx) => {
      const body = await readJson(ctx.req);
      try {
        const faults = deps.faults.update((body ?? {}) as NonNullable<ConfigOverrides['faults']>);
        ctx.log.info({ faults }, 'fault settings changed');
        sendJson(ctx.res, 200, faults);
      } catch (err) {
        throw new ApiError(400, (err as Error).message);
      }
    },
    open,
  );

  router.add(
    'GET',
    '/quotas/{project_id}',
    async (ctx) => {
      const projectId = ctx.params.project_id!;
      sendJson(ctx.res, 200, {
        limits: deps.quotas.limits(projectId),
        usage: deps.quotas.usage(projectId),
      });
    },
    open,
  );
  router.add(
    'PATCH',
    '/quotas/{project_id}',
    async (ctx) => {
      const projectId = ctx.params.project_id!;
      const body = await readJson(ctx.req);
      try {
        const limits = deps.quotas.setProjectLimits(
          projectId,
          (body ?? {}) as Record<string, number>,
        );
        ctx.log.info({ projectId, limits }, 'quota limits changed');
        sendJson(ctx.res, 200, { limits, usage: deps.quotas.usage(projectId) });
      } catch (err) {
        throw new ApiError(400, (err as Error).message);
      }
    },
    open,
  );

  router.add(
    'GET',
    '/servers',
    async (ctx) => {
      const servers = Object.values(deps.store.data.servers).map((server) => ({
        id: server.id,
        name: server.name,
        projectId: server.projectId,
        vmState: server.vmState,
        taskState: server.taskState,
        containerId: server.containerId,
        deletedAt: server.deletedAt,
      }));
      sendJson(ctx.res, 200, { servers });
    },
    open,
  );

  router.add(
    'POST',
    '/settle',
    async (ctx) => {
      await deps.compute.settle();
      sendJson(ctx.res, 200, { settled: true });
    },
    open,
  );
  return router;
}
