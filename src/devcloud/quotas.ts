import type { QuotaLimits } from './config.js';
import { ApiError } from './http/errors.js';
import type { FlavorRecord } from './model.js';
import type { StateStore } from './state.js';

/** Usage counted the way Nova counts it: servers that are not deleted, their vCPUs and their RAM in MiB. */
export type QuotaUsage = QuotaLimits;

/**
 * Per-project limits for instances, cores and ram, with the default limits from
 * the configuration and overrides per project kept in the persisted state.
 */
export class QuotaService {
  constructor(
    private defaults: QuotaLimits,
    private readonly store: StateStore,
    private readonly flavor: (id: string) => FlavorRecord | undefined,
  ) {}

  /** Returns the limits in force for a project. */
  limits(projectId: string): QuotaLimits {
    return { ...this.defaults, ...(this.store.data.projectQuotas[projectId] ?? {}) };
  }

  /** Sets limits for one project; keys left out keep their current value. */
  setProjectLimits(projectId: string, limits: Partial<QuotaLimits>): QuotaLimits {
    for (const [key, value] of Object.entries(limits)) {
      if (!['instances', 'cores', 'ram'].includes(key)) {
        throw new Error(`unknown quota ${JSON.stringify(key)}: expected instances, cores or ram`);
      }
      if (!Number.isInteger(value) || (value as number) < -1) {
        throw new Error(
          `invalid quota ${key}=${String(value)}: expected a whole number, or -1 for unlimited`,
        );
      }
    }
    this.store.data.projectQuotas[projectId] = {
      ...(this.store.data.projectQuotas[projectId] ?? {}),
      ...limits,
    };
    this.store.markDirty();
    return this.limits(projectId);
  }

  /** Returns what a project uses now. */
  usage(projectId: string): QuotaUsage {
    const usage: QuotaUsage = { instances: 0, cores: 0, ram: 0 };
    for (const server of Object.values(this.store.data.servers)) {
      if (server.projectId !== projectId || server.deletedAt) continue;
      const flavor = this.flavor(server.flavorId);
      usage.instances += 1;
      usage.cores += flavor?.vcpus ?? 0;
      usage.ram += flavor?.ram ?? 0;
    }
    return usage;
  }

  /**
   * Throws Nova's 403 "Quota exceeded for ..." when one more server of this
   * flavor would go over a limit; -1 means unlimited.
   */
  checkCreate(projectId: string, flavor: FlavorRecord): void {
    const limits = this.limits(projectId);
    const used = this.usage(projectId);
    const requested: QuotaUsage = { instances: 1, cores: flavor.vcpus, ram: flavor.ram };
    const overs = (['instances', 'cores', 'ram'] as const).filter(
      (resource) =>
        limits[resource] >= 0 && used[resource] + requested[resource] > limits[resource],
    );
    if (overs.length === 0) return;

    // Nova's TooManyInstances text: each list joins the resources that are over, in the same order.
    const join = (values: Array<string | number>): string => values.join(', ');
    const names = join(overs);
    throw new ApiError(
      403,
      `Quota exceeded for ${names}: Requested ${join(overs.map((r) => requested[r]))}, ` +
        `but already used ${join(overs.map((r) => used[r]))} of ${join(overs.map((r) => limits[r]))} ${names}`,
    );
  }
}
