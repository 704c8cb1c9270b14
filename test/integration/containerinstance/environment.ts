/**
 * The servers the ContainerInstance tests run against, started once per
 * mocha run: kube-apiserver with the CRD, the harness dockerd, a registry
 * holding two versions of a test image, and a cloud: the dev cloud, which
 * runs servers as containers on that dockerd, or the real OpenStack test
 * cloud for the @openstack tests. Each scenario file then gets its own
 * namespace, cloud Secret and operator process (see scenario.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { parse } from 'yaml';

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
import { registerCleanup } from '../../support/hooks.js';
import { useOpenStack, type TestCloud } from '../../support/openstack.js';

/** The OpenStack cloud the operator of a scenario works on. */
export interface TargetCloud {
  /** clouds.yaml text for the scenario's cloud Secret. It contains passwords, so never log it. */
  cloudsYaml: string;
  cloudName: string;
  /** Network for instances without spec.networks (the operator's --default-network). */
  networkName: string;
  /** A flavor every test server fits. */
  flavor: string;
  /** Another flavor, for flavor changes. */
  otherFlavor: string;
  /** A flavor no host can run, so its servers go to ERROR; undefined where the cloud has none. */
  unschedulableFlavor: string | undefined;
  /** Values that must never appear in an operator log: passwords and secrets of clouds.yaml. */
  secrets: string[];
  /** A client of the member user, for the tests' own checks. */
  client: OpenStackClient;
}

/** Everything a scenario needs from the shared servers. */
export interface InstanceEnvironment {
  controlPlane: ControlPlane;
  docker: DockerEngine;
  registry: Registry;
  /** Two versions of a busybox image that sleeps, pushed to the registry. */
  images: { v1: string; v2: string };
  cloud: TargetCloud;
  /** The dev cloud, when the cloud is one; undefined on the real test cloud. */
  devcloud: DevCloud | undefined;
}

/** The servers every environment shares: kube-apiserver with the CRD, dockerd and the registry with the test images. */
interface BaseEnvironment {
  controlPlane: ControlPlane;
  docker: DockerEngine;
  registry: Registry;
  images: { v1: string; v2: string };
}

let base: Promise<BaseEnvironment> | undefined;
let withDevCloud: Promise<InstanceEnvironment> | undefined;
let withOpenStack: Promise<InstanceEnvironment> | undefined;

/** Starts the shared servers and a dev cloud on first call; later calls return the same environment. */
export function useInstanceEnvironment(): Promise<InstanceEnvironment> {
  withDevCloud ??= startDevCloudEnvironment().catch((err: unknown) => {
    withDevCloud = undefined;
    throw err;
  });
  return withDevCloud;
}

/**
 * Returns the shared servers with the real OpenStack test cloud as the
 * target, skipping the calling test or hook when that cloud cannot run here.
 */
export async function useOpenStackEnvironment(ctx: Mocha.Context): Promise<InstanceEnvironment> {
  const testCloud = await useOpenStack(ctx);
  withOpenStack ??= startOpenStackEnvironment(testCloud).catch((err: unknown) => {
    withOpenStack = undefined;
    throw err;
  });
  return withOpenStack;
}

function useBase(): Promise<BaseEnvironment> {
  base ??= startBase().catch((err: unknown) => {
    base = undefined;
    throw err;
  });
  return base;
}

async function startBase(): Promise<BaseEnvironment> {
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
  return { controlPlane, docker, registry, images };
}

/**
 * Builds and pushes one more sleeping busybox image under a new name, for a
 * test that needs an image no other scenario published yet; returns its reference.
 */
export async function pushUniqueImage(env: InstanceEnvironment, name: string): Promise<string> {
  const reference = `${env.registry.host}/cinst-test/${name}-${randomBytes(4).toString('hex')}:v1`;
  await buildTestImage(env.docker.docker, reference, {
    cmd: ['sleep', '1000000'],
    env: [`NAME=${name}`],
  });
  await pushImage(env.docker.docker, reference);
  await env.docker.docker.getImage(reference).remove();
  return reference;
}

async function startDevCloudEnvironment(): Promise<InstanceEnvironment> {
  const shared = await useBase();
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const adminPassword = `admin-${randomBytes(12).toString('hex')}`;
  const appSecret = `app-${randomBytes(12).toString('hex')}`;
  const devcloud = await startDevCloud({
    name: 'devcloud-cinst',
    dockerSocket: shared.docker.socketPath,
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

  const client = openCloud(
    cloudConfigFromString(devcloud.cloudsYaml, {
      cloud: devcloud.cloudName,
      source: 'dev cloud clouds.yaml',
    }),
  );
  registerCleanup('dev cloud client of the ContainerInstance tests', () => client.close());
  return {
    ...shared,
    devcloud,
    cloud: {
      cloudsYaml: devcloud.cloudsYaml,
      cloudName: devcloud.cloudName,
      networkName: devcloud.networkName,
      flavor: 'm1.tiny',
      otherFlavor: 'm1.small',
      unschedulableFlavor: undefined,
      secrets: [password, adminPassword, appSecret],
      client,
    },
  };
}

async function startOpenStackEnvironment(testCloud: TestCloud): Promise<InstanceEnvironment> {
  const shared = await useBase();
  const cloudsYaml = await readFile(testCloud.cloudsYamlPath, 'utf8');
  const client = openCloud(
    cloudConfigFromString(cloudsYaml, {
      cloud: testCloud.cloudName,
      source: 'test cloud clouds.yaml',
    }),
  );
  registerCleanup('test cloud client of the ContainerInstance tests', () => client.close());
  return {
    ...shared,
    devcloud: undefined,
    cloud: {
      cloudsYaml,
      cloudName: testCloud.cloudName,
      networkName: testCloud.networkName,
      flavor: testCloud.flavors.tiny,
      otherFlavor: testCloud.flavors.small,
      unschedulableFlavor: testCloud.flavors.unschedulable,
      secrets: cloudsYamlSecrets(cloudsYaml),
      client,
    },
  };
}

/** Returns every password and secret value in a clouds.yaml. */
function cloudsYamlSecrets(text: string): string[] {
  const document = parse(text) as { clouds?: Record<string, { auth?: Record<string, unknown> }> };
  const values = new Set<string>();
  for (const cloud of Object.values(document.clouds ?? {})) {
    for (const [key, value] of Object.entries(cloud.auth ?? {})) {
      if (/password|secret|token/i.test(key) && typeof value === 'string' && value.length > 0)
        values.add(value);
    }
  }
  return [...values];
}
