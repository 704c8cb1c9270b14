import { ApiError } from '../http/errors.js';
import { sendJson } from '../http/io.js';
import { Router, type RequestContext } from '../http/router.js';
import { addActionRoutes } from './actions.js';
import { novaRoute, type NovaDeps } from './common.js';
import { maxMicroversion, minMicroversion, negotiateMicroversion } from './microversion.js';
import { addServerRoutes } from './servers.js';
import { addMetadataRoutes, addTagRoutes } from './tags-metadata.js';
import { flavorDetail, flavorSummary } from './views.js';

function versionEntry(ctx: RequestContext): Record<string, unknown> {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: maxMicroversion,
    min_version: minMicroversion,
    updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${ctx.serviceUrl}/v2.1/` }],
  };
}

/**
 * Builds the Nova v2.1 routes: version documents, servers (list, detail, show,
 * create, update, delete), actions, tags, metadata, flavors, limits and quota sets.
 */
export function novaRouter(deps: NovaDeps): Router {
  const router = new Router();

  router.add(
    'GET',
    '/',
    async (ctx) => {
      sendJson(ctx.res, 200, {
        versions: [
          {
            id: 'v2.0',
            status: 'SUPPORTED',
            version: '',
            min_version: '',
            updated: '2011-01-21T11:33:21Z',
            links: [{ rel: 'self', href: `${ctx.serviceUrl}/v2/` }],
          },
          versionEntry(ctx),
        ],
      });
    },
    { public: true },
  );
  router.add(
    'GET',
    '/v2.1',
    async (ctx) => {
      negotiateMicroversion(ctx.req, ctx.res);
      sendJson(ctx.res, 200, {
        version: {
          ...versionEntry(ctx),
          'media-types': [
            {
              base: 'application/json',
              type: 'application/vnd.openstack.compute+json;version=2.1',
            },
          ],
        },
      });
    },
    { public: true },
  );

  // Literal paths (servers/detail) must be registered before their parameter routes.
  addServerRoutes(router, deps);
  addActionRoutes(router, deps);
  addTagRoutes(router, deps);
  addMetadataRoutes(router, deps);
  addFlavorRoutes(router, deps);
  addLimitRoutes(router, deps);
  return router;
}

function addFlavorRoutes(router: Router, deps: NovaDeps): void {
  const list =
    (detail: boolean) => async (request: Parameters<Parameters<typeof novaRoute>[3]>[0]) => {
      const { ctx, version, base } = request;
      const minRam = Number(ctx.query.get('minRam') ?? 0);
      const minDisk = Number(ctx.query.get('minDisk') ?? 0);
      let flavors = deps.fixtures.flavors.filter(
        (flavor) => flavor.ram >= minRam && flavor.disk >= minDisk,
      );
      const marker = ctx.query.get('marker');
      if (marker !== null) {
        const index = flavors.findIndex((flavor) => flavor.id === marker);
        if (index < 0) throw new ApiError(400, `marker [${marker}] not found`);
        flavors = flavors.slice(index + 1);
      }
      const limit = Number(ctx.query.get('limit') ?? 1000);
      const page = flavors.slice(0, limit);
      const body: Record<string, unknown> = {
        flavors: page.map((flavor) =>
          detail ? flavorDetail(flavor, version, base) : flavorSummary(flavor, version, base),
        ),
      };
      if (page.length > 0 && page.length === limit) {
        const params = new URLSearchParams(ctx.query);
        params.set('marker', page[page.length - 1]!.id);
        body.flavors_links = [
          {
            rel: 'next',
            href: `${base.versioned}/flavors${detail ? '/detail' : ''}?${params.toString()}`,
          },
        ];
      }
      sendJson(ctx.res, 200, body);
    };
  novaRoute(router, 'GET', '/flavors', list(false));
  novaRoute(router, 'GET', '/flavors/detail', list(true));
  novaRoute(router, 'GET', '/flavors/{flavor_id}', async ({ ctx, version, base }) => {
    const flavor = deps.flavor(ctx.params.flavor_id!);
    if (!flavor) throw new ApiError(404, `Flavor ${ctx.params.flavor_id} could not be found.`);
    sendJson(ctx.res, 200, { flavor: flavorDetail(flavor, version, base) });
  });
  novaRoute(router, 'GET', '/flavors/{flavor_id}/os-extra_specs', async ({ ctx }) => {
    if (!deps.flavor(ctx.params.flavor_id!)) {
      throw new ApiError(404, `Flavor ${ctx.params.flavor_id} could not be found.`);
    }
    sendJson(ctx.res, 200, { extra_specs: {} });
  });
}

function addLimitRoutes(router: Router, deps: NovaDeps): void {
  novaRoute(router, 'GET', '/limits', async ({ ctx, projectId }) => {
    const limits = deps.quotas.limits(projectId);
    const used = deps.quotas.usage(projectId);
    sendJson(ctx.res, 200, {
      limits: {
        rate: [],
        absolute: {
          maxTotalInstances: limits.instances,
          maxTotalCores: limits.cores,
          maxTotalRAMSize: limits.ram,
          maxServerMeta: 128,
          maxTotalKeypairs: 100,
          maxServerGroups: 10,
          maxServerGroupMembers: 10,
          totalInstancesUsed: used.instances,
          totalCoresUsed: used.cores,
          totalRAMUsed: used.ram,
          totalServerGroupsUsed: 0,
        },
      },
    });
  });

  for (const detail of [false, true]) {
    novaRoute(
      router,
      'GET',
      `/os-quota-sets/{quota_project_id}${detail ? '/detail' : ''}`,
      async ({ ctx, projectId }) => {
        const target = ctx.params.quota_project_id!;
        if (target !== projectId && !ctx.auth!.roles.includes('admin')) {
          throw new ApiError(
            403,
            `Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.`,
          );
        }
        const limits = deps.quotas.limits(target);
        const used = deps.quotas.usage(target);
        const value = (limit: number, inUse: number) =>
          detail ? { limit, in_use: inUse, reserved: 0 } : limit;
        sendJson(ctx.res, 200, {
          quota_set: {
            id: target,
            instances: value(limits.instances, used.instances),
            cores: value(limits.cores, used.cores),
            ram: value(limits.ram, used.ram),
            metadata_items: value(128, 0),
            key_pairs: value(100, 0),
            server_groups: value(10, 0),
            server_group_members: value(10, 0),
          },
        });
      },
    );
  }
}
