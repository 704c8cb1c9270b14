import { setTimeout as sleep } from 'node:timers/promises';

import {
  mergeFaults,
  validateFaults,
  type ConfigOverrides,
  type FaultConfig,
  type ServiceName,
} from './config.js';
import { ApiError } from './http/errors.js';

/**
 * Injects latency and error responses into API requests, with rates and
 * delays that the admin endpoint can change while the dev cloud runs.
 */
export class FaultInjector {
  private random: () => number;

  constructor(
    private config: FaultConfig,
    seed?: number,
  ) {
    this.random = seed === undefined ? Math.random : seededRandom(seed);
  }

  /** Returns a copy of the fault settings in force. */
  current(): FaultConfig {
    return structuredClone(this.config);
  }

  /** Applies changes; throws (and changes nothing) when the result is invalid. */
  update(overrides: NonNullable<ConfigOverrides['faults']>): FaultConfig {
    const next = mergeFaults(this.config, overrides);
    validateFaults(next);
    this.config = next;
    return this.current();
  }

  /**
   * Waits the service's configured latency, then returns an injected error for
   * this request or undefined to let it through.
   */
  async beforeRequest(service: ServiceName): Promise<ApiError | undefined> {
    const latency = this.config.latencyMs[service];
    if (latency > 0) await sleep(latency);
    if (!this.config.errorServices.includes(service)) return undefined;

    const roll = this.random();
    const rates = this.config.errorRates;
    if (roll < rates['500']) {
      return new ApiError(500, 'Unexpected API Error (injected by the dev cloud fault settings).', {
        neutronType: 'HTTPInternalServerError',
      });
    }
    if (roll < rates['500'] + rates['503']) {
      return new ApiError(
        503,
        'The service is temporarily unavailable (injected by the dev cloud fault settings).',
        {
          neutronType: 'ServiceUnavailable',
        },
      );
    }
    if (roll < rates['500'] + rates['503'] + rates['429']) {
      return new ApiError(
        429,
        'This request was rate-limited (injected by the dev cloud fault settings).',
        {
          headers: { 'Retry-After': String(this.config.retryAfterSeconds) },
          neutronType: 'OverQuota',
        },
      );
    }
    return undefined;
  }

  /** Returns whether servers booted from this Glance image name must fail. */
  imageFails(name: string | null): boolean {
    return name !== null && this.config.failingImages.includes(name);
  }

  /** Returns whether servers of this flavor name must fail scheduling. */
  flavorFails(name: string): boolean {
    return this.config.failingFlavors.includes(name);
  }
}

/** mulberry32: a small deterministic generator, so a seeded run injects the same faults each time. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
