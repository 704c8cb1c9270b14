/**
 * Counters read at the edges of a benchmark phase: Kubernetes API requests
 * (kube-apiserver's counter minus the benchmark's own requests), OpenStack
 * calls (the dev cloud's counts), and the operator's CPU time and memory.
 */
import {
  attributeCounts,
  readApiserverRequests,
  subtractCounts,
  type RequestCounts,
} from '../harness/apiserver-metrics.js';
import type { KubeClient, RequestTally } from '../harness/kube-client.js';
import { readCallCounts, subtractCalls, type CallCounts } from '../harness/openstack-calls.js';
import { readProcSample, type ProcSample, type ProcSampler } from '../harness/proc-sampler.js';

/** Every counter at one moment. */
export interface Snapshot {
  at: number;
  kube: RequestCounts;
  kubeSeconds: RequestCounts;
  ownKube: RequestTally;
  openstack: CallCounts;
  operator: ProcSample;
  /** CPU seconds since start of each process named in `processes`. */
  cpuSeconds: Record<string, number>;
}

/** Counter differences between two snapshots. */
export interface PhaseCounts {
  durationMs: number;
  /** Kubernetes API requests of the operator, by `VERB resource`. */
  kube: RequestCounts;
  /**
   * Seconds kube-apiserver spent serving the operator's requests, by `VERB
   * resource`. Keys the benchmark also sent requests on in the phase are left
   * out, because their time cannot be split.
   */
  kubeSeconds: RequestCounts;
  /** Kubernetes API requests on resources the operator does not use, which kube-apiserver sends for itself. */
  kubeApiserverOwn: RequestCounts;
  /** OpenStack calls by `service METHOD route`. */
  openstack: CallCounts;
  operatorCpuSeconds: number;
  /** CPU seconds each process used in the phase: the operator, kube-apiserver, etcd, the dev cloud and the benchmark. */
  cpuSecondsByProcess: Record<string, number>;
}

/**
 * Reads every counter, and the CPU time of each process in `processes` (name
 * to PID). Rejects when kube-apiserver, the dev cloud or /proc cannot be read.
 */
export async function takeSnapshot(
  client: KubeClient,
  adminUrl: string,
  sampler: ProcSampler,
  processes: Record<string, number>,
): Promise<Snapshot> {
  const [apiserver, openstack] = await Promise.all([
    readApiserverRequests(client),
    readCallCounts(adminUrl),
  ]);
  return {
    at: Date.now(),
    kube: apiserver.counts,
    kubeSeconds: apiserver.seconds,
    ownKube: new Map(client.tally),
    openstack,
    operator: sampler.sample(),
    cpuSeconds: Object.fromEntries(
      Object.entries(processes).map(([name, pid]) => [name, readProcSample(pid).cpuSeconds]),
    ),
  };
}

/** Returns the counts between two snapshots of the same run. */
export function between(before: Snapshot, after: Snapshot): PhaseCounts {
  const kube = subtractCounts(after.kube, before.kube, before.ownKube, after.ownKube);
  const { operator, apiserver } = attributeCounts(kube);
  const ownKeys = new Set(subtractCounts(after.ownKube, before.ownKube).keys());
  const seconds = subtractCounts(after.kubeSeconds, before.kubeSeconds);
  for (const key of seconds.keys()) {
    // A watch lasts as long as the client keeps it open, so its duration does not measure load.
    const watch = key.startsWith('WATCH ');
    if (watch || ownKeys.has(key) || !operator.has(key)) seconds.delete(key);
  }
  return {
    durationMs: after.at - before.at,
    kube: operator,
    kubeSeconds: seconds,
    kubeApiserverOwn: apiserver,
    openstack: subtractCalls(after.openstack, before.openstack),
    operatorCpuSeconds: after.operator.cpuSeconds - before.operator.cpuSeconds,
    cpuSecondsByProcess: Object.fromEntries(
      Object.entries(after.cpuSeconds).map(([name, seconds]) => [
        name,
        seconds - (before.cpuSeconds[name] ?? 0),
      ]),
    ),
  };
}
