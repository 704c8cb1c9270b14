/**
 * Creates N ContainerInstances at once, as `kubectl apply` of one large
 * manifest or a GitOps sync would, and records when each create returned.
 */
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../src/api/constants.js';
import type { ContainerInstance, ContainerInstanceSpec } from '../../src/api/types.js';
import type { KubeClient } from './kube-client.js';

/** Timing of applyInstances, in milliseconds since the epoch. */
export interface ApplyResult {
  /** Time the first create was sent. */
  startedAt: number;
  /** Time the last create returned. */
  finishedAt: number;
  /** Time each instance's create returned, by name. */
  createdAt: Map<string, number>;
}

/** Returns the name of instance `index` (0-based) of a benchmark run: bench-00000, bench-00001, ... */
export function instanceName(index: number): string {
  return `bench-${String(index).padStart(5, '0')}`;
}

/**
 * Creates `count` instances with the given spec in `namespace`, with at
 * most `parallel` creates in flight. Rejects on the first create that
 * fails, naming the instance and the apiserver's message.
 */
export async function applyInstances(
  client: KubeClient,
  namespace: string,
  count: number,
  spec: ContainerInstanceSpec,
  parallel = 64,
): Promise<ApplyResult> {
  const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;
  const createdAt = new Map<string, number>();
  const startedAt = Date.now();
  let next = 0;

  const worker = async () => {
    while (next < count) {
      const name = instanceName(next);
      next += 1;
      const body: ContainerInstance = {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name, namespace, labels: { 'novadocker.io/benchmark': 'convergence' } },
        spec,
      };
      const response = await client.request('POST', path, { body, tallyKey: `POST ${PLURAL}` });
      if (response.status !== 201) {
        throw new Error(
          `creating ContainerInstance ${namespace}/${name} failed with ${response.status}: ${String(response.body).slice(0, 500)}`,
        );
      }
      createdAt.set(name, Date.now());
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));

  return { startedAt, finishedAt: Date.now(), createdAt };
}
