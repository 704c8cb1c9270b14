/**
 * The servers the ContainerInstance tests run against, started once per
 * mocha run: kube-apiserver with the CRD, the harness dockerd, a registry
 * holding two versions of a test image, and a dev cloud that runs servers
 * as containers on that dockerd. Each scenario file then gets its own
 * namespace, cloud Secret and operator process (see scenario.ts).
 */
import { randomBytes } from 'node:crypto';

import { useContainerInstanceCrd } from '../../support/containerinstance-crd.js';
import type { ControlPlane } from '../../support/controlplane.js';
import { startDevCloud, type DevCloud } from '../../support/devcloud.js';
import {
  buildTestImage,
  pushImage,
  useDocker,
  useRegistry,
  type DockerEngine,
  type Registry,
} from '../../support/docker.js';
import {
  cloudConfigFromString,
  openCloud,
  type OpenStackClient,
} from '../../../src/openstack/index.js';

/** Everything a scenario needs from the shared servers. */
export interface InstanceEnvironment {
  controlPlane: ControlPlane;
  docker: DockerEngine;
  registry: Registry;
  devcloud: DevCloud;
  /** Two versions of a busybox image that sleeps, pushed to the registry. */
  images: { v1: string; v2: string };
  /** Values that must never appear in an operator log: the dev cloud's passwords and secrets. */
  secrets: string[];
  /** A client of the dev cloud's member user, for the tests' own checks. */
  cloud: OpenStackClient;
}

let shared: Promise<InstanceEnvironment> | undefined;

/** Starts the shared servers on first call; later calls return the same environment. */
export function useInstanceEnvironment(): Promise<InstanceEnvironment> {
  shared ??= startEnvironment().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

async function startEnvironment(): Promise<InstanceEnvironment> {
  const [controlPlane, docker, registry] = await Promise.all([
    useContainerInstanceCrd(),
    useDocker(),
    useRegistry(),
  ]);

  const suffix = randomBytes(4).toString('hex');
  const images = {
    v1: `${registry.host}/cinst-test/sleeper-${suffix}:v1`,
    v2: `${registry.host}/cinst-test/sleeper-${suffix}:v2`,
  };
  // Two images with different content, so their digests and Glance images differ.
  await buildTestImage(docker.docker, images.v1, { cmd: ['sleep', '1000000'], env: ['VERSION=1'] });
  await buildTestImage(docker.docker, images.v2, { cmd: ['sleep', '1000000'], env: ['VERSION=2'] });
  await pushImage(docker.docker, images.v1);
  await pushImage(docker.docker, images.v2);
  // The operator must pull from the registry, not find the images locally.
  await docker.docker.getImage(images.v1).remove();
  await docker.docker.getImage(images.v2).remove();

  const password = `pw-${randomBytes(12).toString('hex')}`;
  const adminPassword = `admin-${randomBytes(12).toString('hex')}`;
  const appSecret = `app-${randomBytes(12).toString('hex')}`;
  const devcloud = await startDevCloud({
    name: 'devcloud-cinst',
    dockerSocket: docker.socketPath,
    extraArgs: [
      '--password',
      password,
      '--admin-password',
      adminPassword,
      '--app-credential-secret',
      appSecret,
      '--quota-instances',
      '200',
      '--quota-cores',
      '400',
      '--quota-ram',
      '10000000',
      '--stop-timeout',
      '1',
    ],
  });

  const cloud = openCloud(
    cloudConfigFromString(devcloud.cloudsYaml, {
      cloud: devcloud.cloudName,
      source: 'dev cloud clouds.yaml',
    }),
  );
  return {
    controlPlane,
    docker,
    registry,
    devcloud,
    images,
    secrets: [password, adminPassword, appSecret],
    cloud,
  };
}
