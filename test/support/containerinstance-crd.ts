import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { CRD_NAME, PLURAL, GROUP } from '../../src/api/constants.js';
import { CRD_FILE } from '../../src/api/crd-yaml.js';
import { useControlPlane, type ControlPlane } from './controlplane.js';
import { repoRoot } from './host-packages.js';
import { waitFor } from './process.js';

let installed: Promise<ControlPlane> | undefined;

/**
 * Returns the shared control plane with the committed ContainerInstance CRD
 * installed, Established and visible in discovery (kubectl explain and get
 * work). Installs once per test run; later calls return the same promise.
 */
export function useContainerInstanceCrd(): Promise<ControlPlane> {
  installed ??= install();
  return installed;
}

async function install(): Promise<ControlPlane> {
  const controlPlane = await useControlPlane();
  await controlPlane.kubectl([
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    path.join(repoRoot, CRD_FILE),
  ]);
  await controlPlane.kubectl([
    'wait',
    '--for=condition=Established',
    `crd/${CRD_NAME}`,
    '--timeout=60s',
  ]);

  // Established comes before the resource is in discovery; kubectl resolves
  // `cinst` through discovery, so wait until it does.
  await waitFor(
    `${PLURAL}.${GROUP} in API discovery`,
    async () =>
      (await controlPlane.kubectl(['get', 'cinst', '-A', '-o', 'name'], { allowFailure: true }))
        .code === 0,
    30_000,
  );
  return controlPlane;
}

/** Creates a namespace with a random suffix so test files and reruns never share objects. */
export async function createTestNamespace(
  controlPlane: ControlPlane,
  prefix: string,
): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await controlPlane.kubectl(['create', 'namespace', name]);
  return name;
}
