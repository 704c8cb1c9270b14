import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import type { KubeConfig, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import type { Command } from 'commander';

import { Controller } from '../controller/controller.js';
import { Manager, type ManagerAddresses } from '../controller/manager.js';
import type { ReconcileFunction, Reconciler } from '../controller/reconciler.js';
import { EventRecorder } from '../kube/event-recorder.js';
import type { Informer } from '../kube/informer.js';
import { customResourceInformer, secretInformer } from '../kube/informers.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import type { CustomResourceType } from '../kube/resource.js';
import { StatusWriter } from '../kube/status-writer.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { OperatorMetrics } from '../observability/metrics.js';
import { addRunOptions, toRunConfig, type RunConfig } from './run-options.js';

/** Shared clients, caches and settings that `run` passes to the reconciler's setup. */
export interface ReconcilerContext<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  config: RunConfig;
  logger: Logger;
  metrics: OperatorMetrics;
  events: EventRecorder;
  statusWriter: StatusWriter;
  /** Cache of the reconciled resource. */
  informer: Informer<T>;
  /** Cache of Secrets in the watched namespace(s); undefined unless the wiring sets watchSecrets. */
  secrets: Informer<V1Secret> | undefined;
  /**
   * Queues a key of the reconciled resource, for changes Kubernetes does not
   * see (e.g. a server changed in OpenStack). Ignored until this replica leads.
   */
  enqueue(key: string): void;
}

/** Result of the wiring's setup: the reconciler and how Secret changes map to its keys. */
export interface ReconcilerSetup<T extends KubernetesObject> {
  reconciler: Reconciler<T> | ReconcileFunction<T>;
  /** Keys of the objects to reconcile again when this Secret changes. */
  secretKeys?: (secret: V1Secret) => string[];
  /** More informers to start, stop and count in readiness with the others. */
  informers?: Informer<KubernetesObject>[];
  /** Releases what setup opened (timers, connections); called once after the controllers stopped. */
  stop?: () => Promise<void>;
}

/** Binds `run` to one resource type and its reconciler. */
export interface OperatorWiring<T extends KubernetesObject> {
  resource: CustomResourceType;
  /** Name in logs and metrics, e.g. "containerinstance". */
  controllerName: string;
  /** Also watch Secrets in the same namespace(s). @default false */
  watchSecrets?: boolean;
  setup: (context: ReconcilerContext<T>) => ReconcilerSetup<T>;
}

/** A started operator. */
export interface RunningOperator {
  addresses: ManagerAddresses;
  manager: Manager;
  /** Stops everything within config.shutdownTimeoutMs and resolves with the exit code to use. */
  stop(reason: string): Promise<number>;
}

/**
 * Builds and starts the operator from a RunConfig: informers, one
 * controller, Events, leader election and the HTTP servers. onFatal is
 * called with exit code 1 when leadership is lost, after everything stopped.
 * Rejects (after stopping what started) when the kubeconfig or a listen
 * address is unusable.
 */
export async function startOperator<T extends KubernetesObject>(
  config: RunConfig,
  wiring: OperatorWiring<T>,
  logger: Logger,
  onFatal: (exitCode: number) => void,
): Promise<RunningOperator> {
  const { kubeConfig, source, location, server } = loadKubeConfig({
    kubeconfig: config.kubeconfig,
  });
  logger.info(
    { kubeconfigSource: source, kubeconfig: location, server },
    'connecting to the API server',
  );

  const metrics = new OperatorMetrics();
  const instanceName = process.env.POD_NAME || hostname();
  const events = new EventRecorder({
    kubeConfig,
    reportingController: 'novadocker.io/operator',
    reportingInstance: instanceName,
    logger,
    metrics,
  });
  const informer = customResourceInformer<T>(kubeConfig, wiring.resource, {
    namespace: config.namespace,
    labelSelector: config.labelSelector,
    logger,
    metrics,
  });
  const secrets = wiring.watchSecrets
    ? secretInformer(kubeConfig, { namespace: config.namespace, logger, metrics })
    : undefined;
  const statusWriter = new StatusWriter(kubeConfig, wiring.resource, { logger });

  metrics.setInstancePhaseSource(() => {
    const counts = new Map<string, number>();
    for (const object of informer.list()) {
      const phase = (object as { status?: { phase?: unknown } }).status?.phase;
      const label = typeof phase === 'string' && phase ? phase : 'Unknown';
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    return counts;
  });

  // Setup runs before the controller exists, so enqueue reaches it through this holder.
  const started: { controller?: Controller<T> } = {};
  const setup = wiring.setup({
    kubeConfig,
    config,
    logger,
    metrics,
    events,
    statusWriter,
    informer,
    secrets,
    enqueue: (key) => started.controller?.enqueue(key),
  });
  const controller = new Controller<T>({
    name: wiring.controllerName,
    informer,
    reconciler: setup.reconciler,
    concurrency: config.concurrency,
    logger,
    metrics,
  });
  started.controller = controller;
  if (secrets && setup.secretKeys) controller.watch(secrets, setup.secretKeys);

  let stopping: Promise<number> | undefined;
  const manager: Manager = new Manager({
    logger,
    metrics,
    informers: [
      informer,
      ...(secrets ? [secrets] : []),
      ...(setup.informers ?? []),
    ] as Informer<KubernetesObject>[],
    controllers: [controller as unknown as Controller<KubernetesObject>],
    events,
    metricsBindAddress: config.metricsBindAddress,
    healthProbeBindAddress: config.healthProbeBindAddress,
    leaderElection: config.leaderElect
      ? {
          kubeConfig,
          namespace: config.leaderElectionNamespace!,
          name: config.leaderElectionId,
          identity: `${instanceName}_${randomUUID()}`,
          leaseDurationMs: config.leaseDurationMs,
          renewDeadlineMs: config.renewDeadlineMs,
          retryPeriodMs: config.retryPeriodMs,
        }
      : undefined,
    onLeadershipLost: () => {
      logger.error('lost leadership; stopping so that a restart starts clean as a standby');
      void stop('leadership lost', 1).then(onFatal);
    },
  });

  const stop = (reason: string, exitCode = 0): Promise<number> => {
    stopping ??= (async () => {
      logger.info({ reason, shutdownTimeoutMs: config.shutdownTimeoutMs }, 'shutting down');
      const drained = await manager.stop(config.shutdownTimeoutMs);
      try {
        await setup.stop?.();
      } catch (err) {
        logger.warn({ err }, 'releasing the reconciler resources failed');
      }
      if (!drained)
        logger.warn(
          'some reconciles were still running at the shutdown deadline; they resume on the next leader',
        );
      return exitCode;
    })();
    return stopping;
  };

  try {
    const addresses = await manager.start();
    return { addresses, manager, stop: (reason) => stop(reason) };
  } catch (err) {
    await stop('startup failed');
    throw err;
  }
}

/**
 * Registers `nova-docker-operator run`. With wiring undefined the command
 * exits 1 with an error, because there is nothing to reconcile.
 */
export function registerRunCommand<T extends KubernetesObject>(
  program: Command,
  wiring: OperatorWiring<T> | undefined,
): Command {
  const command = program
    .command('run')
    .description(
      'Run the operator: watch ContainerInstances and reconcile them onto OpenStack Nova-Docker servers',
    );
  addRunOptions(command).action(async (values: Record<string, unknown>) => {
    let config: RunConfig;
    try {
      config = toRunConfig(values);
    } catch (err) {
      return command.error(`error: ${(err as Error).message}`);
    }
    const logger = createLogger({ level: config.logLevel });
    if (!wiring) {
      logger.fatal(
        'no reconciler is registered for the run command; this build cannot reconcile anything',
      );
      process.exit(1);
    }

    // Handle signals from the start: one that arrives while the operator
    // starts is acted on as soon as startup finishes.
    let started: RunningOperator | undefined;
    let stopRequested: string | undefined;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (stopRequested) {
          logger.warn({ signal }, 'second signal during shutdown; exiting now');
          process.exit(1);
        }
        stopRequested = `received ${signal}`;
        if (started) void started.stop(stopRequested).then((code) => process.exit(code));
      });
    }

    try {
      started = await startOperator(config, wiring, logger, (code) => process.exit(code));
    } catch (err) {
      logger.fatal({ err }, 'operator failed to start');
      process.exit(1);
    }
    if (stopRequested) process.exit(await started.stop(stopRequested));
  });
  return command;
}
