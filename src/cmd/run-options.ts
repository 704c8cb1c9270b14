import { readFileSync } from 'node:fs';

import { InvalidArgumentError, Option, type Command } from 'commander';

import {
  SERVER_OBSERVER_MODES,
  type ServerObserverMode,
} from '../containerinstance/server-observer.js';
import { runningInCluster } from '../kube/kubeconfig.js';
import { parseNamespacedName } from '../kube/resource.js';
import { parseListenAddress } from '../observability/http-server.js';
import { formatDuration, parseDuration } from './duration.js';

/** The validated settings of `nova-docker-operator run`; durations in milliseconds. */
export interface RunConfig {
  kubeconfig: string | undefined;
  /** Namespace to watch; undefined watches all namespaces. */
  namespace: string | undefined;
  labelSelector: string | undefined;
  concurrency: number;
  pollIntervalActiveMs: number;
  pollIntervalIdleMs: number;
  /** One server listing per cloud and project (bulk), or one per instance (for comparisons). */
  serverObserver: ServerObserverMode;
  defaultCloudSecret: { namespace: string; name: string } | undefined;
  /** Cloud to use from the default Secret's clouds.yaml; undefined when it contains one cloud. */
  defaultCloudName: string | undefined;
  defaultNetwork: string | undefined;
  /** Replace servers that stay in ERROR for erroredServerGraceMs. */
  recreateErroredServers: boolean;
  erroredServerGraceMs: number;
  /** Image pulls plus Glance uploads running at once per cloud. */
  maxConcurrentUploads: number;
  /** Time between image garbage-collection passes; undefined when --no-image-gc is given. */
  imageGcIntervalMs: number | undefined;
  /** Time an operator-owned Glance image may stay unused before it is deleted. */
  imageGcGracePeriodMs: number;
  leaderElect: boolean;
  leaderElectionNamespace: string | undefined;
  leaderElectionId: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Listen address, or undefined when disabled with "0". */
  metricsBindAddress: string | undefined;
  healthProbeBindAddress: string | undefined;
  logLevel: string;
  shutdownTimeoutMs: number;
}

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

function positiveInteger(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1)
      throw new Error(`invalid ${flag} "${value}": expected a whole number >= 1`);
    return parsed;
  };
}

function duration(flag: string) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms <= 0) throw new Error(`invalid ${flag} "${value}": must be longer than 0`);
    return ms;
  };
}

function bindAddress(flag: string) {
  return (value: string): string => {
    if (value === '0') return value;
    try {
      parseListenAddress(value);
    } catch (err) {
      throw new Error(`invalid ${flag}: ${(err as Error).message}`, { cause: err });
    }
    return value;
  };
}

function wrapParser<T>(parse: (value: string) => T) {
  // Commander prints an InvalidArgumentError as "error: option '...' argument '...' is invalid. <message>".
  return (value: string): T => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/** Adds the flags of `run` to a command; every help line states the default and the unit. */
export function addRunOptions(command: Command): Command {
  const inCluster = runningInCluster();
  const metricsDefault = inCluster ? ':8080' : '127.0.0.1:8080';
  const healthDefault = inCluster ? ':8081' : '127.0.0.1:8081';
  const durationOption = (flags: string, description: string, defaultMs: number) =>
    new Option(flags, `${description} (duration, e.g. ${formatDuration(defaultMs)} or 500ms)`)
      .argParser(wrapParser(duration(flags.split(' ')[0]!)))
      .default(defaultMs, formatDuration(defaultMs));

  return command
    .addOption(
      new Option(
        '--kubeconfig <path>',
        'kubeconfig file to use (default: $KUBECONFIG, then the Pod service account, then ~/.kube/config)',
      ),
    )
    .addOption(
      new Option(
        '--namespace <name>',
        'watch ContainerInstances in this namespace only (default: all namespaces)',
      ),
    )
    .addOption(
      new Option(
        '--label-selector <selector>',
        'reconcile only ContainerInstances matching this label selector, e.g. shard=a (default: all)',
      ),
    )
    .addOption(
      new Option(
        '--concurrency <count>',
        'ContainerInstances reconciled at the same time, at most (count)',
      )
        .argParser(wrapParser(positiveInteger('--concurrency')))
        .default(4),
    )
    .addOption(
      durationOption(
        '--poll-interval-active <duration>',
        'server list interval while any server is in a transitional state',
        5_000,
      ),
    )
    .addOption(
      durationOption(
        '--poll-interval-idle <duration>',
        'server list interval while every server is settled',
        60_000,
      ),
    )
    .addOption(
      new Option(
        '--server-observer <mode>',
        'bulk: one server listing per cloud and project; per-instance: one listing per instance and poll, to compare with operators that GET each server',
      )
        .choices([...SERVER_OBSERVER_MODES])
        .default('bulk'),
    )
    .addOption(
      new Option(
        '--default-cloud-secret <namespace/name>',
        'clouds.yaml Secret for ContainerInstances without spec.cloud (default: none; such instances are Stalled)',
      ).argParser(
        wrapParser((value) => (parseNamespacedName(value, '--default-cloud-secret'), value)),
      ),
    )
    .addOption(
      new Option(
        '--default-cloud-name <name>',
        'cloud to use from the clouds.yaml of --default-cloud-secret (default: its only cloud)',
      ),
    )
    .addOption(
      new Option(
        '--default-network <name>',
        'network for ContainerInstances without spec.networks (default: none, so Nova picks with networks "auto")',
      ),
    )
    .addOption(
      new Option(
        '--no-recreate-errored-servers',
        'only report servers in ERROR; by default a server that stays in ERROR for --errored-server-grace is replaced',
      ),
    )
    .addOption(
      durationOption(
        '--errored-server-grace <duration>',
        'time a server may stay in ERROR before it is replaced; doubles with each replacement in a row, up to 1h',
        300_000,
      ),
    )
    .addOption(
      new Option(
        '--max-concurrent-uploads <count>',
        'image pulls plus Glance uploads running at once per cloud, at most (count)',
      )
        .argParser(wrapParser(positiveInteger('--max-concurrent-uploads')))
        .default(2),
    )
    .addOption(
      new Option(
        '--no-image-gc',
        'keep every operator-owned Glance image; by default unused ones are deleted after --image-gc-grace-period',
      ),
    )
    .addOption(
      durationOption(
        '--image-gc-interval <duration>',
        'time between garbage-collection passes over operator-owned Glance images',
        3_600_000,
      ),
    )
    .addOption(
      durationOption(
        '--image-gc-grace-period <duration>',
        'time an operator-owned Glance image may stay unused by every ContainerInstance before it is deleted',
        86_400_000,
      ),
    )
    .addOption(
      new Option(
        '--leader-elect',
        'elect a leader through a Lease so that only one replica reconciles',
      ).default(false),
    )
    .addOption(
      new Option(
        '--leader-election-namespace <name>',
        'namespace of the leader election Lease (default: $POD_NAMESPACE, then the Pod namespace)',
      ),
    )
    .addOption(
      new Option('--leader-election-id <name>', 'name of the leader election Lease').default(
        'nova-docker-operator',
      ),
    )
    .addOption(
      durationOption(
        '--lease-duration <duration>',
        'how long standbys wait before taking a Lease that is not renewed',
        15_000,
      ),
    )
    .addOption(
      durationOption(
        '--renew-deadline <duration>',
        'how long the leader keeps trying to renew before it stops leading',
        10_000,
      ),
    )
    .addOption(
      durationOption(
        '--retry-period <duration>',
        'time between attempts to acquire or renew the Lease',
        2_000,
      ),
    )
    .addOption(
      new Option(
        '--metrics-bind-address <address>',
        'host:port of the /metrics server; "0" disables it',
      )
        .argParser(wrapParser(bindAddress('--metrics-bind-address')))
        .default(metricsDefault),
    )
    .addOption(
      new Option(
        '--health-probe-bind-address <address>',
        'host:port of the /healthz and /readyz server; "0" disables it',
      )
        .argParser(wrapParser(bindAddress('--health-probe-bind-address')))
        .default(healthDefault),
    )
    .addOption(
      new Option('--log-level <level>', 'lowest level logged').choices(logLevels).default('info'),
    )
    .addOption(
      durationOption(
        '--shutdown-timeout <duration>',
        'after SIGTERM, how long running reconciles may take to finish',
        25_000,
      ),
    );
}

/**
 * Converts parsed flag values into a RunConfig, checking the rules that
 * span several flags. Throws an Error naming the flags to fix.
 */
export function toRunConfig(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): RunConfig {
  const leaseDurationMs = values.leaseDuration as number;
  const renewDeadlineMs = values.renewDeadline as number;
  const retryPeriodMs = values.retryPeriod as number;
  const leaderElect = Boolean(values.leaderElect);
  if (
    leaderElect &&
    !(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs * 1.1)
  ) {
    throw new Error(
      `invalid leader election timing: need --lease-duration > --renew-deadline > 1.1 x --retry-period. ` +
        `Received: ${formatDuration(leaseDurationMs)}, ${formatDuration(renewDeadlineMs)}, ${formatDuration(retryPeriodMs)}`,
    );
  }

  const defaultCloudSecret = values.defaultCloudSecret
    ? parseNamespacedName(values.defaultCloudSecret as string, '--default-cloud-secret')
    : undefined;
  const leaderElectionNamespace = leaderElect
    ? ((values.leaderElectionNamespace as string | undefined) ?? podNamespace(env))
    : undefined;
  if (leaderElect && !leaderElectionNamespace) {
    throw new Error(
      '--leader-elect needs a namespace for its Lease: pass --leader-election-namespace (or set POD_NAMESPACE)',
    );
  }

  const pollIntervalActiveMs = values.pollIntervalActive as number;
  const pollIntervalIdleMs = values.pollIntervalIdle as number;
  if (pollIntervalActiveMs > pollIntervalIdleMs) {
    throw new Error(
      `--poll-interval-active (${formatDuration(pollIntervalActiveMs)}) must not be longer than --poll-interval-idle (${formatDuration(pollIntervalIdleMs)})`,
    );
  }

  const disabled = (address: unknown) => (address === '0' ? undefined : (address as string));
  return {
    kubeconfig: values.kubeconfig as string | undefined,
    namespace: (values.namespace as string | undefined) || undefined,
    labelSelector: (values.labelSelector as string | undefined) || undefined,
    concurrency: values.concurrency as number,
    pollIntervalActiveMs,
    pollIntervalIdleMs,
    serverObserver: values.serverObserver as ServerObserverMode,
    defaultCloudSecret,
    defaultCloudName: (values.defaultCloudName as string | undefined) || undefined,
    defaultNetwork: values.defaultNetwork as string | undefined,
    recreateErroredServers: values.recreateErroredServers !== false,
    erroredServerGraceMs: values.erroredServerGrace as number,
    maxConcurrentUploads: values.maxConcurrentUploads as number,
    imageGcIntervalMs: values.imageGc === false ? undefined : (values.imageGcInterval as number),
    imageGcGracePeriodMs: values.imageGcGracePeriod as number,
    leaderElect,
    leaderElectionNamespace,
    leaderElectionId: values.leaderElectionId as string,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    metricsBindAddress: disabled(values.metricsBindAddress),
    healthProbeBindAddress: disabled(values.healthProbeBindAddress),
    logLevel: values.logLevel as string,
    shutdownTimeoutMs: values.shutdownTimeout as number,
  };
}

function podNamespace(env: NodeJS.ProcessEnv): string | undefined {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    return (
      readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}
