import type { AddressInfo } from 'node:net';

import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';

import type { EventRecorder } from '../kube/event-recorder.js';
import type { Informer } from '../kube/informer.js';
import { LeaderElector } from '../kube/leader-election.js';
import { ObservabilityServer, type ReadinessCheck } from '../observability/http-server.js';
import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import type { Controller } from './controller.js';

/** Leader election settings of a Manager; durations in milliseconds. */
export interface ManagerLeaderElection {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** Settings of a Manager. */
export interface ManagerOptions {
  logger: Logger;
  metrics: OperatorMetrics;
  informers: Informer<KubernetesObject>[];
  controllers: Controller<KubernetesObject>[];
  /** Omit to run the controllers without leader election. */
  leaderElection?: ManagerLeaderElection;
  /** Listen address of /metrics; omit to serve no metrics. */
  metricsBindAddress?: string;
  /** Listen address of /healthz and /readyz; omit to serve no probes. */
  healthProbeBindAddress?: string;
  events?: EventRecorder;
  /** Called when this replica loses the Lease without stop() being called. */
  onLeadershipLost?: () => void;
}

/** Bound addresses of the Manager's HTTP servers. */
export interface ManagerAddresses {
  metrics?: AddressInfo;
  health?: AddressInfo;
}

/**
 * Runs informers, controllers, leader election and the HTTP servers as one
 * unit, in the order controller-runtime's manager uses. Servers and
 * informers start on every replica, so standbys have warm caches and pass
 * readiness. Controllers start only once this replica leads. stop() runs
 * the reverse order and releases the Lease after the last reconcile ends.
 */
export class Manager {
  private readonly logger: Logger;
  private readonly servers: { name: 'metrics' | 'health'; server: ObservabilityServer }[] = [];
  private readonly elector: LeaderElector | undefined;
  private stopping = false;
  private leader: string | undefined;

  constructor(private readonly options: ManagerOptions) {
    this.logger = options.logger.child({ component: 'manager' });
    const election = options.leaderElection;
    if (election) {
      this.elector = new LeaderElector({
        ...election,
        logger: options.logger,
        metrics: options.metrics,
        onStartedLeading: () => this.startControllers(),
        onStoppedLeading: (reason) => {
          if (reason === 'lost' && !this.stopping) options.onLeadershipLost?.();
        },
        onNewLeader: (identity) => {
          this.leader = identity;
        },
      });
    }

    const sameAddress =
      options.metricsBindAddress !== undefined &&
      options.metricsBindAddress === options.healthProbeBindAddress;
    if (options.metricsBindAddress) {
      this.servers.push({
        name: 'metrics',
        server: new ObservabilityServer({
          name: sameAddress ? 'metrics and health' : 'metrics',
          address: options.metricsBindAddress,
          registry: options.metrics.registry,
          readiness: sameAddress ? this.readinessChecks() : undefined,
          logger: this.logger,
        }),
      });
    }
    if (options.healthProbeBindAddress && !sameAddress) {
      this.servers.push({
        name: 'health',
        server: new ObservabilityServer({
          name: 'health',
          address: options.healthProbeBindAddress,
          readiness: this.readinessChecks(),
          logger: this.logger,
        }),
      });
    }
  }

  /** Returns whether this replica may reconcile: it leads, or leader election is off. */
  isLeading(): boolean {
    return this.elector ? this.elector.isLeader() : true;
  }

  /**
   * Starts the HTTP servers, the informers, and leader election (or the
   * controllers at once without it). Rejects when a server cannot listen.
   */
  async start(): Promise<ManagerAddresses> {
    const addresses: ManagerAddresses = {};
    for (const { name, server } of this.servers) {
      const bound = await server.listen();
      addresses[name] = bound;
      if (
        name === 'metrics' &&
        this.options.metricsBindAddress === this.options.healthProbeBindAddress
      )
        addresses.health = bound;
    }
    for (const informer of this.options.informers) informer.start();
    if (this.elector) this.elector.start();
    else this.startControllers();
    return addresses;
  }

  /**
   * Stops in order: controllers (no new work; running reconciles get until
   * deadlineMs), leader election (releases the Lease), informers, Event
   * writes, then the HTTP servers. Resolves true when every running
   * reconcile finished in time.
   */
  async stop(deadlineMs: number): Promise<boolean> {
    this.stopping = true;
    this.logger.info({ deadlineMs }, 'stopping');
    const results = await Promise.all(
      this.options.controllers.map((controller) => controller.shutdown(deadlineMs)),
    );
    await this.elector?.stop();
    await Promise.all(this.options.informers.map((informer) => informer.stop()));
    await this.options.events?.close();
    await Promise.all(this.servers.map(({ server }) => server.close()));
    const drained = results.every((result) => result.drained);
    this.logger.info({ drained }, 'stopped');
    return drained;
  }

  private startControllers(): void {
    for (const controller of this.options.controllers) void this.startController(controller);
  }

  private async startController(controller: Controller<KubernetesObject>): Promise<void> {
    // Informers retry on their own, so keep waiting for their first list and
    // log a warning every 30 s rather than give up while the API server is slow.
    while (!this.stopping && this.isLeading()) {
      try {
        await controller.start(30_000);
        return;
      } catch (err) {
        this.logger.warn(
          { controller: controller.name, err },
          'controller still waiting for its informer to sync',
        );
      }
    }
  }

  private readinessChecks(): ReadinessCheck[] {
    return [
      {
        name: 'informers',
        check: () => {
          const waiting = this.options.informers
            .filter((informer) => !informer.hasSynced())
            .map((informer) => informer.name);
          return waiting.length === 0
            ? { ok: true, detail: 'synced' }
            : { ok: false, detail: `waiting for first list: ${waiting.join(', ')}` };
        },
      },
      {
        name: 'leader-election',
        check: () => {
          if (!this.elector) return { ok: true, detail: 'disabled' };
          if (this.elector.isLeader()) return { ok: true, detail: 'leading' };
          return { ok: true, detail: `standby${this.leader ? ` (leader: ${this.leader})` : ''}` };
        },
      },
    ];
  }
}
