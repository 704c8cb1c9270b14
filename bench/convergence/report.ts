/**
 * Renders convergence, steady-state and comparison figures as Markdown for
 * the results page and the terminal, with each target next to its figure.
 */
import { totalRequests, totalWrites } from '../harness/apiserver-metrics.js';
import type { LoadReading, MachineInfo } from '../harness/machine.js';
import { callsByServiceAndMethod, totalCalls } from '../harness/openstack-calls.js';
import { table } from '../results-page.js';
import type { ScenarioResult } from './scenario.js';
import type { PhaseCounts } from './snapshot.js';

/** The targets the figures are compared with. */
export const targets = {
  steadyCallsPerInstancePerMinute: 0.02,
  convergenceRatioAt1000: 1.3,
  steadyKubeWritesPerMinute: 0,
  peakRssBytesAt1000: 200e6,
} as const;

/** Context printed above the figures. */
export interface ReportContext {
  date: string;
  command: string;
  /** NODE_OPTIONS the operator ran with; empty for Node's defaults. */
  operatorNodeOptions: string;
  machine: MachineInfo;
  /** Load of the whole benchmark process's lifetime. */
  load: LoadReading;
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const megabytes = (bytes: number) => (bytes / 1e6).toFixed(0);
const percent = (fraction: number) => `${Math.round(fraction * 100)} %`;
const verdict = (met: boolean) => (met ? 'met' : '**missed**');

/** Renders the whole generated section. */
export function renderReport(results: readonly ScenarioResult[], context: ReportContext): string {
  const parts = [
    renderContext(context),
    '#### Convergence',
    renderConvergence(results),
    '#### OpenStack calls during convergence, by service and method',
    renderBreakdown(results, (result) =>
      callsByServiceAndMethod(result.convergence.counts.openstack),
    ),
    '#### Kubernetes API requests of the operator during convergence, by verb and resource',
    'Count, and in brackets the mean time kube-apiserver took to serve one.',
    renderBreakdown(
      results,
      (result) => result.convergence.counts.kube,
      (result, key, count) => {
        const secondsTotal = result.convergence.counts.kubeSeconds.get(key);
        return secondsTotal === undefined
          ? String(count)
          : `${count} (${((secondsTotal / count) * 1000).toFixed(1)} ms)`;
      },
    ),
    '#### The operator during convergence',
    renderOperator(results),
    '#### CPU seconds by process during convergence',
    `The machine offers ${context.machine.cpus} CPU seconds per second of wall time; every process below shares them.`,
    renderCpu(results, (result) => result.convergence.counts),
  ];
  const steady = results.filter((result) => result.steady !== undefined);
  if (steady.length > 0) {
    parts.push(
      '#### Steady state',
      renderSteady(steady),
      '#### CPU seconds by process in the steady-state window',
      renderCpu(steady, (result) => result.steady!.counts),
    );
  }
  const comparison = renderComparison(results);
  if (comparison) parts.push('#### Bulk observation compared with a GET per instance', comparison);
  parts.push('#### Targets', renderTargets(results));
  return parts.join('\n\n');
}

function renderContext(context: ReportContext): string {
  const { machine } = context;
  return [
    `Measured ${context.date} on ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB memory, Linux ${machine.kernel}, Node.js ${machine.node}.`,
    `Machine load over the whole run: ${percent(context.load.cpuBusy)} of all CPUs busy (every process counted), 1-minute load average ${context.load.loadAverage1m} at the end.`,
    '',
    'Command:',
    '',
    '```',
    context.command,
    '```',
    '',
    context.operatorNodeOptions === ''
      ? "The operator ran with Node.js's default heap settings (`NODE_OPTIONS` empty)."
      : `The operator ran with \`NODE_OPTIONS=${context.operatorNodeOptions}\`.`,
  ].join('\n');
}

function renderConvergence(results: readonly ScenarioResult[]): string {
  const rows = results.map((result) => {
    const { settings, convergence: c } = result;
    return [
      settings.label,
      settings.observer,
      settings.instances,
      settings.concurrency,
      seconds(c.applyMs),
      seconds(c.totalMs),
      seconds(c.theoreticalMinimumMs),
      (c.totalMs / c.theoreticalMinimumMs).toFixed(2),
      seconds(c.readyP50Ms),
      seconds(c.readyP99Ms),
      totalCalls(c.counts.openstack),
      `${totalRequests(c.counts.kube)} (${totalWrites(c.counts.kube)})`,
      megabytes(c.operatorPeakRssBytes),
      c.counts.operatorCpuSeconds.toFixed(1),
      percent(c.load.cpuBusy),
    ];
  });
  return table(
    [
      'run',
      'observer',
      'N',
      'concurrency',
      'apply (s)',
      'all Ready (s)',
      'T_min (s)',
      'ratio',
      'p50 apply→Ready (s)',
      'p99 apply→Ready (s)',
      'OpenStack calls',
      'Kubernetes requests (writes)',
      'operator peak RSS (MB)',
      'operator CPU (s)',
      'machine CPU busy',
    ],
    rows,
  );
}

/** Renders a table with one row per request key and one column per run. */
function renderBreakdown(
  results: readonly ScenarioResult[],
  pick: (result: ScenarioResult) => Map<string, number>,
  cell: (result: ScenarioResult, key: string, count: number) => string = (_r, _k, count) =>
    String(count),
): string {
  const maps = results.map(pick);
  const keys = [...new Set(maps.flatMap((map) => [...map.keys()]))].sort();
  if (keys.length === 0) return '(none)';
  return table(
    ['request', ...results.map((result) => result.settings.label)],
    keys.map((key) => [
      `\`${key}\``,
      ...maps.map((map, index) => cell(results[index]!, key, map.get(key) ?? 0)),
    ]),
  );
}

function renderCpu(
  results: readonly ScenarioResult[],
  pick: (result: ScenarioResult) => PhaseCounts,
): string {
  const names = [
    ...new Set(results.flatMap((result) => Object.keys(pick(result).cpuSecondsByProcess))),
  ];
  return table(
    ['run', 'wall (s)', ...names],
    results.map((result) => {
      const counts = pick(result);
      return [
        result.settings.label,
        seconds(counts.durationMs),
        ...names.map((name) => (counts.cpuSecondsByProcess[name] ?? 0).toFixed(1)),
      ];
    }),
  );
}

function renderOperator(results: readonly ScenarioResult[]): string {
  return table(
    [
      'run',
      'reconciles per instance',
      'mean reconcile (ms)',
      'mean queue wait (s)',
      'apiserver time on its requests (s)',
      'RSS at start / peak / end (MB)',
      'V8 heap used / total at end (MB)',
    ],
    results.map((result) => {
      const c = result.convergence;
      const m = c.operatorMetrics;
      let apiserverSeconds = 0;
      for (const value of c.counts.kubeSeconds.values()) apiserverSeconds += value;
      return [
        result.settings.label,
        (m.reconcileCount / result.settings.instances).toFixed(2),
        m.reconcileCount === 0
          ? 'n/a'
          : ((m.reconcileSecondsSum / m.reconcileCount) * 1000).toFixed(1),
        m.queueWaitCount === 0 ? 'n/a' : (m.queueWaitSecondsSum / m.queueWaitCount).toFixed(2),
        apiserverSeconds.toFixed(1),
        `${megabytes(c.operatorStartRssBytes)} / ${megabytes(c.operatorPeakRssBytes)} / ${megabytes(c.operatorEndRssBytes)}`,
        `${megabytes(m.heapUsedBytes)} / ${megabytes(m.heapTotalBytes)}`,
      ];
    }),
  );
}

function renderSteady(results: readonly ScenarioResult[]): string {
  return table(
    [
      'run',
      'observer',
      'N',
      'window (s)',
      'OpenStack calls',
      'calls / instance / min',
      'Kubernetes writes / min',
      'ContainerInstance watch events',
      'operator CPU',
      'operator RSS (MB)',
      'machine CPU busy',
    ],
    results.map((result) => {
      const s = result.steady!;
      return [
        result.settings.label,
        result.settings.observer,
        result.settings.instances,
        seconds(s.windowMs),
        totalCalls(s.counts.openstack),
        s.openstackCallsPerInstancePerMinute.toFixed(4),
        s.kubeWritesPerMinute.toFixed(2),
        s.instanceWatchEvents,
        `${s.operatorCpuPercent.toFixed(2)} %`,
        megabytes(s.operatorRssBytes),
        percent(s.load.cpuBusy),
      ];
    }),
  );
}

/** Pairs each per-instance run with the bulk run of the same size. */
export function comparisonPairs(
  results: readonly ScenarioResult[],
): { bulk: ScenarioResult; perInstance: ScenarioResult }[] {
  return results
    .filter((result) => result.settings.observer === 'per-instance')
    .flatMap((perInstance) => {
      const bulk = results.find(
        (result) =>
          result.settings.observer === 'bulk' &&
          result.settings.instances === perInstance.settings.instances,
      );
      return bulk ? [{ bulk, perInstance }] : [];
    });
}

function renderComparison(results: readonly ScenarioResult[]): string | undefined {
  const pairs = comparisonPairs(results);
  if (pairs.length === 0) return undefined;
  const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : (a / b).toFixed(2));
  return table(
    [
      'N',
      'OpenStack calls to converge, per-instance / bulk',
      'steady-state OpenStack calls, per-instance / bulk',
      'time to all Ready, per-instance / bulk',
    ],
    pairs.map(({ bulk, perInstance }) => [
      bulk.settings.instances,
      `${totalCalls(perInstance.convergence.counts.openstack)} / ${totalCalls(bulk.convergence.counts.openstack)} = ${ratio(totalCalls(perInstance.convergence.counts.openstack), totalCalls(bulk.convergence.counts.openstack))}`,
      perInstance.steady && bulk.steady
        ? `${totalCalls(perInstance.steady.counts.openstack)} / ${totalCalls(bulk.steady.counts.openstack)} = ${ratio(totalCalls(perInstance.steady.counts.openstack), totalCalls(bulk.steady.counts.openstack))}`
        : 'not measured',
      `${seconds(perInstance.convergence.totalMs)} s / ${seconds(bulk.convergence.totalMs)} s = ${ratio(perInstance.convergence.totalMs, bulk.convergence.totalMs)}`,
    ]),
  );
}

function renderTargets(results: readonly ScenarioResult[]): string {
  const rows: (string | number)[][] = [];
  for (const result of results.filter((r) => r.settings.observer === 'bulk')) {
    const { settings, convergence: c, steady: s } = result;
    if (s) {
      rows.push([
        `steady-state OpenStack calls / instance / min, N=${settings.instances}`,
        `<= ${targets.steadyCallsPerInstancePerMinute}`,
        s.openstackCallsPerInstancePerMinute.toFixed(4),
        verdict(s.openstackCallsPerInstancePerMinute <= targets.steadyCallsPerInstancePerMinute),
      ]);
      rows.push([
        `steady-state Kubernetes writes / min, N=${settings.instances}`,
        `${targets.steadyKubeWritesPerMinute}`,
        s.kubeWritesPerMinute.toFixed(2),
        verdict(s.kubeWritesPerMinute <= targets.steadyKubeWritesPerMinute),
      ]);
    }
    if (settings.instances === 1000) {
      const ratio = c.totalMs / c.theoreticalMinimumMs;
      rows.push([
        'time to all Ready / T_min, N=1000',
        `<= ${targets.convergenceRatioAt1000}`,
        ratio.toFixed(2),
        verdict(ratio <= targets.convergenceRatioAt1000),
      ]);
      rows.push([
        'operator peak RSS, N=1000',
        `<= ${megabytes(targets.peakRssBytesAt1000)} MB`,
        `${megabytes(c.operatorPeakRssBytes)} MB`,
        verdict(c.operatorPeakRssBytes <= targets.peakRssBytesAt1000),
      ]);
    }
  }
  return table(['figure', 'target', 'measured', 'verdict'], rows);
}
