/**
 * Records every version of one ContainerInstance through `kubectl get
 * --watch`, so a test can check what a watcher such as Flux or Argo CD saw
 * between two points, not only the final state.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

import type { ControlPlane } from './controlplane.js';
import { waitFor } from './process.js';

/** One version of the instance as the watch printed it; absent fields are undefined. */
export interface InstanceObservation {
  resourceVersion: string;
  generation: number;
  observedGeneration: number | undefined;
  phase: string | undefined;
  serverID: string | undefined;
  /** Status of each kstatus-relevant condition: `True`, `False`, `Unknown` or undefined. */
  ready: string | undefined;
  reconciling: string | undefined;
  stalled: string | undefined;
}

/** A running watch; stop it before reading the final list. */
export interface InstanceWatch {
  /** Every observation so far, oldest first. */
  readonly observations: InstanceObservation[];
  /** Stops kubectl and resolves once it exited. */
  stop(): Promise<void>;
}

const condition = (type: string) => `{.status.conditions[?(@.type=="${type}")].status}`;

// One line per version, fields separated by a character no field contains.
const TEMPLATE = [
  '{.metadata.resourceVersion}',
  '{.metadata.generation}',
  '{.status.observedGeneration}',
  '{.status.phase}',
  '{.status.serverID}',
  condition('Ready'),
  condition('Reconciling'),
  condition('Stalled'),
].join('|');

/**
 * Starts `kubectl get --watch` on one instance name (which need not exist
 * yet) and resolves once the watch request is open, so every later change
 * is recorded. Rejects when kubectl exits first.
 */
export async function watchInstance(
  controlPlane: ControlPlane,
  namespace: string,
  name: string,
): Promise<InstanceWatch> {
  const child = spawn(
    controlPlane.kubectlPath,
    [
      `--kubeconfig=${controlPlane.kubeconfigPath}`,
      '--namespace',
      namespace,
      'get',
      'containerinstances.novadocker.io',
      '--field-selector',
      `metadata.name=${name}`,
      '--watch',
      '--output',
      `jsonpath=${TEMPLATE}{"\\n"}`,
      // Level 6 logs each request, which shows when the watch is open.
      '-v=6',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit');

  const observations: InstanceObservation[] = [];
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines.filter((text) => text.trim() !== '')) {
      observations.push(parseObservation(line));
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  await waitFor(
    `kubectl watch on ${namespace}/${name} to open`,
    async () => {
      if (child.exitCode !== null) throw new Error(`kubectl exited: ${stderr.slice(-500)}`);
      return /watch=true.*200 OK/.test(stderr);
    },
    30_000,
    50,
  );

  return {
    observations,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function parseObservation(line: string): InstanceObservation {
  const [
    resourceVersion,
    generation,
    observedGeneration,
    phase,
    serverID,
    ready,
    reconciling,
    stalled,
  ] = line.split('|');
  const text = (value: string | undefined) =>
    value === undefined || value === '' ? undefined : value;
  return {
    resourceVersion: resourceVersion ?? '',
    generation: Number(generation),
    observedGeneration:
      text(observedGeneration) === undefined ? undefined : Number(observedGeneration),
    phase: text(phase),
    serverID: text(serverID),
    ready: text(ready),
    reconciling: text(reconciling),
    stalled: text(stalled),
  };
}

/**
 * Returns whether kstatus would call this version done: Ready is True, the
 * status was written for the current generation, and neither Reconciling
 * nor Stalled is True.
 */
export function isCurrent(observation: InstanceObservation): boolean {
  return (
    observation.ready === 'True' &&
    observation.observedGeneration === observation.generation &&
    observation.reconciling !== 'True' &&
    observation.stalled !== 'True'
  );
}
