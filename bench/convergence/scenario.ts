/**
 * One convergence run: a fresh dev cloud and namespace, the operator as a
 * child process, N ContainerInstances created at once, the time until all
 * are Ready, then an idle window that measures the steady state.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { ContainerInstanceSpec } from '../../src/api/types.js';
import { totalWrites } from '../harness/apiserver-metrics.js';
import { applyInstances } from '../harness/apply.js';
import { startRunEnvironment, type RunEnvironment } from '../harness/environment.js';
import { LoadMeter, type LoadReading } from '../harness/machine.js';
import { totalCalls } from '../harness/openstack-calls.js';
import { startOperator, type OperatorProcess } from '../harness/operator.js';
import { readOperatorMetrics, type OperatorMetrics } from '../harness/operator-metrics.js';
import { ReadyWatch } from '../harness/ready-watch.js';
import { between, takeSnapshot, type PhaseCounts } from './snapshot.js';
import { percentile } from './stats.js';
import { perInstanceMinimumMs, theoreticalMinimumMs } from './theory.js';

/** Server observation strategy of the operator under test. */
export type ObserverMode = 'bulk' | 'per-instance';

/** Settings of one run. */
export interface ScenarioSettings {
  label: string;
  instances: number;
  observer: ObserverMode;
  concurrency: number;
  latencyMs: number;
  buildDelayMs: number;
  pollIntervalActive: string;
  pollIntervalIdle: string;
  /** Environment variables for the operator process, such as NODE_OPTIONS. */
  operatorEnv: Record<string, string>;
  /** Steady-state window after convergence, in milliseconds; 0 skips it. */
  idleWindowMs: number;
  /** Give up waiting for Ready after this long, in milliseconds. */
  readyTimeoutMs: number;
  /** Prepares the dev cloud (for example a Glance image) and returns the spec every instance gets. */
  instanceSpec: (env: RunEnvironment) => Promise<ContainerInstanceSpec>;
  /** Returns the flags of `run` that select the observer (none for bulk, the default). */
  observerArgs: (mode: ObserverMode) => string[];
}

/** Figures of the convergence phase. */
export interface ConvergenceFigures {
  applyMs: number;
  /** First create sent to last instance Ready. */
  totalMs: number;
  theoreticalMinimumMs: number;
  perInstanceMinimumMs: number;
  readyP50Ms: number;
  readyP99Ms: number;
  readyMaxMs: number;
  counts: PhaseCounts;
  operatorPeakRssBytes: number;
  /** RSS of the operator once it was ready, before the first create. */
  operatorStartRssBytes: number;
  /** RSS of the operator when the last instance was Ready. */
  operatorEndRssBytes: number;
  /** The operator's own metrics when the last instance was Ready. */
  operatorMetrics: OperatorMetrics;
  /** Instances that became Ready in each second after the first create (index = second). */
  readyPerSecond: number[];
  load: LoadReading;
}

/** Figures of the idle window after convergence. */
export interface SteadyFigures {
  windowMs: number;
  counts: PhaseCounts;
  openstackCallsPerInstancePerMinute: number;
  kubeWritesPerMinute: number;
  /** ContainerInstance watch events seen in the window; each is a write someone made. */
  instanceWatchEvents: number;
  operatorCpuPercent: number;
  operatorRssBytes: number;
  operatorMetrics: OperatorMetrics;
  load: LoadReading;
}

/** Everything one run measured. */
export interface ScenarioResult {
  settings: Omit<ScenarioSettings, 'instanceSpec' | 'observerArgs'>;
  startedAt: string;
  convergence: ConvergenceFigures;
  steady: SteadyFigures | undefined;
  operatorLog: string;
}

/**
 * Runs one scenario and stops every process it started, also on failure.
 * Rejects when a server fails to start or the instances are not all Ready
 * within readyTimeoutMs.
 */
export async function runScenario(settings: ScenarioSettings): Promise<ScenarioResult> {
  const startedAt = new Date().toISOString();
  const env = await startRunEnvironment(settings.label, settings);
  let operator: OperatorProcess | undefined;
  let watch: ReadyWatch | undefined;
  try {
    const spec = await settings.instanceSpec(env);
    const logDir = await mkdtemp(path.join(tmpdir(), `ndo-bench-${settings.label}-`));
    operator = await startOperator({
      kubeconfigPath: env.controlPlane.kubeconfigPath,
      namespace: env.namespace,
      concurrency: settings.concurrency,
      pollIntervalActive: settings.pollIntervalActive,
      pollIntervalIdle: settings.pollIntervalIdle,
      extraArgs: settings.observerArgs(settings.observer),
      env: settings.operatorEnv,
      logDir,
      label: settings.label,
    });
    watch = new ReadyWatch(env.client, env.namespace);
    await watch.start();

    const convergence = await converge(settings, env, operator, watch, spec);
    const steady =
      settings.idleWindowMs > 0 ? await idle(settings, env, operator, watch) : undefined;

    return {
      settings: plainSettings(settings),
      startedAt,
      convergence,
      steady,
      operatorLog: operator.process.logPath,
    };
  } finally {
    await watch?.stop();
    await operator?.stop();
    await env.stop();
  }
}

/** Returns the PIDs whose CPU time each phase reports, by name. */
function processesOf(env: RunEnvironment, operator: OperatorProcess): Record<string, number> {
  return {
    operator: operator.process.pid,
    'kube-apiserver': env.controlPlane.pids.apiserver,
    etcd: env.controlPlane.pids.etcd,
    'dev cloud': env.cloud.process.pid,
    benchmark: process.pid,
  };
}

/** Returns the settings without their functions, for the JSON results. */
function plainSettings(settings: ScenarioSettings): ScenarioResult['settings'] {
  const plain: Partial<ScenarioSettings> = { ...settings };
  delete plain.instanceSpec;
  delete plain.observerArgs;
  return plain as ScenarioResult['settings'];
}

async function converge(
  settings: ScenarioSettings,
  env: RunEnvironment,
  operator: OperatorProcess,
  watch: ReadyWatch,
  spec: ContainerInstanceSpec,
): Promise<ConvergenceFigures> {
  const load = new LoadMeter();
  const processes = processesOf(env, operator);
  const before = await takeSnapshot(env.client, env.cloud.adminUrl, operator.sampler, processes);

  const applied = await applyInstances(env.client, env.namespace, settings.instances, spec);
  await watch.waitForReady(settings.instances, settings.readyTimeoutMs);
  const lastReady = Math.max(...watch.readyAt.values());

  const after = await takeSnapshot(env.client, env.cloud.adminUrl, operator.sampler, processes);
  const operatorMetrics = await readOperatorMetrics(operator.metricsUrl);
  const perInstance = [...applied.createdAt].map(
    ([name, createdAt]) => watch.readyAt.get(name)! - createdAt,
  );
  const readyPerSecond: number[] = [];
  for (const readyAt of watch.readyAt.values()) {
    const second = Math.floor((readyAt - applied.startedAt) / 1000);
    while (readyPerSecond.length <= second) readyPerSecond.push(0);
    readyPerSecond[second]! += 1;
  }
  const applyMs = applied.finishedAt - applied.startedAt;
  return {
    applyMs,
    totalMs: lastReady - applied.startedAt,
    theoreticalMinimumMs: theoreticalMinimumMs({
      instances: settings.instances,
      concurrency: settings.concurrency,
      latencyMs: settings.latencyMs,
      buildDelayMs: settings.buildDelayMs,
      applyMs,
    }),
    perInstanceMinimumMs: perInstanceMinimumMs(settings.latencyMs, settings.buildDelayMs),
    readyP50Ms: percentile(perInstance, 50),
    readyP99Ms: percentile(perInstance, 99),
    readyMaxMs: Math.max(...perInstance),
    counts: between(before, after),
    operatorPeakRssBytes: operator.sampler.peakRssBytes(),
    operatorStartRssBytes: before.operator.rssBytes,
    operatorEndRssBytes: after.operator.rssBytes,
    operatorMetrics,
    readyPerSecond,
    load: load.stop(),
  };
}

async function idle(
  settings: ScenarioSettings,
  env: RunEnvironment,
  operator: OperatorProcess,
  watch: ReadyWatch,
): Promise<SteadyFigures> {
  const load = new LoadMeter();
  const processes = processesOf(env, operator);
  const before = await takeSnapshot(env.client, env.cloud.adminUrl, operator.sampler, processes);
  const eventsBefore = watch.events;
  await new Promise((resolve) => setTimeout(resolve, settings.idleWindowMs));
  const after = await takeSnapshot(env.client, env.cloud.adminUrl, operator.sampler, processes);

  const counts = between(before, after);
  const minutes = counts.durationMs / 60_000;
  return {
    windowMs: counts.durationMs,
    counts,
    openstackCallsPerInstancePerMinute: totalCalls(counts.openstack) / settings.instances / minutes,
    kubeWritesPerMinute: totalWrites(counts.kube) / minutes,
    instanceWatchEvents: watch.events - eventsBefore,
    operatorCpuPercent: (counts.operatorCpuSeconds / (counts.durationMs / 1000)) * 100,
    operatorRssBytes: after.operator.rssBytes,
    operatorMetrics: await readOperatorMetrics(operator.metricsUrl),
    load: load.stop(),
  };
}
