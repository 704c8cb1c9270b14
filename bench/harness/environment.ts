/**
 * The servers a convergence benchmark runs against: the shared local control
 * plane (etcd and kube-apiserver with the ContainerInstance CRD) and one
 * fresh dev cloud per run in --no-engine mode, so thousands of servers cost
 * no containers. Every process is stopped by PID through the test cleanups.
 */
import { randomBytes } from 'node:crypto';

import type { ControlPlane } from '../../test/support/controlplane.js';
import { useContainerInstanceCrd } from '../../test/support/containerinstance-crd.js';
import { startDevCloud, type DevCloud } from '../../test/support/devcloud.js';
import { KubeClient } from './kube-client.js';

/** Dev cloud behaviour of a run. */
export interface CloudSettings {
  /** Added latency of every OpenStack API call (identity, compute, image, network), in milliseconds. */
  latencyMs: number;
  /** Time a new server stays in BUILD, in milliseconds. */
  buildDelayMs: number;
}

/** One run's namespace and clouds; the control plane is shared by the runs of one benchmark process. */
export interface RunEnvironment {
  controlPlane: ControlPlane;
  client: KubeClient;
  namespace: string;
  cloud: DevCloud;
  /** Secret in `namespace` with the dev cloud's clouds.yaml under the key `clouds.yaml`. */
  cloudSecretName: string;
  /** Stops the dev cloud; the namespace stays, because the control plane is thrown away at the end. */
  stop(): Promise<void>;
}

/** Name of the Secret holding the dev cloud's clouds.yaml in each run's namespace. */
const CLOUD_SECRET = 'bench-cloud';

let sharedClient: Promise<KubeClient> | undefined;

/**
 * Starts (once) the control plane with the CRD, creates a fresh namespace
 * with the cloud Secret, and starts a dev cloud with the given latency and
 * BUILD delay and no quota limits. Rejects naming the step that failed.
 */
export async function startRunEnvironment(
  label: string,
  settings: CloudSettings,
): Promise<RunEnvironment> {
  const controlPlane = await useContainerInstanceCrd();
  sharedClient ??= KubeClient.fromKubeConfig(controlPlane.kubeConfig(), 128);
  const client = await sharedClient;

  const namespace = `bench-${label}-${randomBytes(3).toString('hex')}`;
  const created = await client.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    tallyKey: 'POST namespaces',
  });
  if (created.status !== 201) {
    throw new Error(
      `creating namespace ${namespace} failed with ${created.status}: ${String(created.body)}`,
    );
  }

  const latency = ['identity', 'compute', 'image', 'network']
    .map((service) => `${service}=${settings.latencyMs}`)
    .join(',');
  const cloud = await startDevCloud({
    name: `devcloud-${label}`,
    extraArgs: [
      '--latency',
      latency,
      '--build-delay',
      String(settings.buildDelayMs),
      '--quota-instances',
      '-1',
      '--quota-cores',
      '-1',
      '--quota-ram',
      '-1',
      '--log-level',
      'warn',
    ],
  });

  const secret = await client.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: CLOUD_SECRET, namespace },
      type: 'Opaque',
      stringData: { 'clouds.yaml': cloud.cloudsYaml },
    },
    tallyKey: 'POST secrets',
  });
  if (secret.status !== 201) {
    await cloud.stop();
    throw new Error(
      `creating Secret ${namespace}/${CLOUD_SECRET} failed with ${secret.status}: ${String(secret.body).slice(0, 300)}`,
    );
  }

  return {
    controlPlane,
    client,
    namespace,
    cloud,
    cloudSecretName: CLOUD_SECRET,
    stop: () => cloud.stop(),
  };
}
