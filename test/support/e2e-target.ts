/**
 * What an end-to-end suite runs against: a control plane with the CRD, a
 * cloud, the operator watching one namespace with that cloud as its default,
 * and a web server image in a local registry. The dev cloud target runs each
 * server as a Docker container. The OpenStack target is the machine's real
 * test cloud, whose Nova fake driver runs no container.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type Docker from 'dockerode';

import { buildCloudSecret } from '../../hack/lib/cloud-secret.js';
import {
  cloudConfigFromString,
  openCloud,
  type OpenStackClient,
} from '../../src/openstack/index.js';
import { useControlPlane, type ControlPlane } from './controlplane.js';
import { startDevCloud } from './devcloud.js';
import { buildTestImage, pushImage, useDocker, useRegistry } from './docker.js';
import { registerCleanup } from './hooks.js';
import { repoRoot } from './host-packages.js';
import { useOpenStack, type TestCloud } from './openstack.js';
import { startOperator, type Operator } from './operator.js';

/** Label the dev cloud puts on each server's container. */
const SERVER_LABEL = 'org.openstack.devcloud.server-id';

/** The command of the web server instances: busybox httpd in the foreground. */
export const WEB_COMMAND = ['httpd', '-f', '-v', '-p', '8080', '-h', '/var/www'];

/** Namespace of the default cloud Secrets, as in the install manifests. */
const OPERATOR_NAMESPACE = 'nova-docker-operator';

/** The running container of a server, as the dev cloud's Docker Engine reports it. */
export interface ServerContainer {
  running: boolean;
  /** `NAME=value` entries. */
  env: string[];
  cmd: string[];
}

/** One cloud with an operator in front of it, ready for kubectl. */
export interface E2ETarget {
  /** Name in test titles and logs. */
  name: string;
  controlPlane: ControlPlane;
  /** The namespace the operator watches; tests create their instances here. */
  namespace: string;
  /** The web server image in the local registry. */
  image: string;
  /** A flavor that schedules. */
  flavor: string;
  /** A flavor whose servers go to ERROR with "No valid host was found.". */
  unschedulableFlavor: string;
  network: string;
  /** Member client of the cloud, to check servers behind the operator's back. */
  openstack: OpenStackClient;
  operator: Operator;
  /** Returns the server's container, or undefined when there is none; undefined on clouds without containers. */
  container?: (serverID: string) => Promise<ServerContainer | undefined>;
}

let devCloudTarget: Promise<E2ETarget> | undefined;

/**
 * Starts (once per mocha run) the control plane, the harness dockerd and
 * registry, a dev cloud on that dockerd and the operator, and returns the
 * target. Rejects with the failing server's log tail.
 */
export function useDevCloudTarget(): Promise<E2ETarget> {
  devCloudTarget ??= startDevCloudTarget().catch((err: unknown) => {
    devCloudTarget = undefined;
    throw err;
  });
  return devCloudTarget;
}

async function startDevCloudTarget(): Promise<E2ETarget> {
  const [controlPlane, engine, registry] = await Promise.all([
    useControlPlane(),
    useDocker(),
    useRegistry(),
  ]);
  const image = await publishWebImage(engine.docker, registry.host);

  const unschedulableFlavor = 'm1.large';
  const cloud = await startDevCloud({
    name: 'devcloud-e2e',
    dockerSocket: engine.socketPath,
    extraArgs: ['--fail-flavor', unschedulableFlavor],
  });

  const namespace = await prepareNamespace(controlPlane, 'e2e-devcloud');
  const secret = await writeCloudSecret(
    controlPlane,
    'devcloud-e2e',
    cloud.cloudsYamlPath,
    cloud.cloudName,
  );
  const operator = await startOperator({
    name: 'devcloud-e2e',
    kubeconfigPath: controlPlane.kubeconfigPath,
    defaultCloudSecret: secret,
    dockerHost: engine.host,
    namespace,
  });

  const openstack = openCloud(cloudConfigFromString(cloud.cloudsYaml, { cloud: cloud.cloudName }));
  registerCleanup('dev cloud e2e OpenStack client', () => openstack.close());

  return {
    name: 'dev cloud',
    controlPlane,
    namespace,
    image,
    flavor: 'm1.tiny',
    unschedulableFlavor,
    network: cloud.networkName,
    openstack,
    operator,
    container: (serverID) => findContainer(engine.docker, serverID),
  };
}

let openStackTarget: Promise<E2ETarget> | undefined;

/**
 * Returns the target of the machine's real OpenStack test cloud, starting
 * the operator for it once per mocha run. Skips the calling hook through
 * ctx.skip() when that cloud cannot run here. Its Nova fake driver runs no
 * container, so the target has no `container` function.
 */
export async function useOpenStackTarget(ctx: Mocha.Context): Promise<E2ETarget> {
  const cloud = await useOpenStack(ctx);
  openStackTarget ??= startOpenStackTarget(cloud).catch((err: unknown) => {
    openStackTarget = undefined;
    throw err;
  });
  return openStackTarget;
}

async function startOpenStackTarget(cloud: TestCloud): Promise<E2ETarget> {
  const [controlPlane, engine, registry] = await Promise.all([
    useControlPlane(),
    useDocker(),
    useRegistry(),
  ]);
  const image = await publishWebImage(engine.docker, registry.host);

  const namespace = await prepareNamespace(controlPlane, 'e2e-openstack');
  const secret = await writeCloudSecret(
    controlPlane,
    'openstack-e2e',
    cloud.cloudsYamlPath,
    cloud.cloudName,
  );
  const operator = await startOperator({
    name: 'openstack-e2e',
    kubeconfigPath: controlPlane.kubeconfigPath,
    defaultCloudSecret: secret,
    dockerHost: engine.host,
    namespace,
  });

  const cloudsYaml = await readFile(cloud.cloudsYamlPath, 'utf8');
  const openstack = openCloud(cloudConfigFromString(cloudsYaml, { cloud: cloud.cloudName }));
  registerCleanup('OpenStack e2e client', () => openstack.close());

  return {
    name: 'OpenStack test cloud',
    controlPlane,
    namespace,
    image,
    flavor: cloud.flavors.tiny,
    unschedulableFlavor: cloud.flavors.unschedulable,
    network: cloud.networkName,
    openstack,
    operator,
  };
}

/**
 * Builds the offline busybox image with httpd as its command and pushes it,
 * so every target publishes the same image from a registry.
 */
export async function publishWebImage(docker: Docker, registryHost: string): Promise<string> {
  const { reference } = await buildTestImage(docker, `${registryHost}/e2e/web:1.0`, {
    cmd: ['httpd', '-f', '-p', '80', '-h', '/var/www'],
  });
  await pushImage(docker, reference);
  return reference;
}

/**
 * Applies the CRD and the operator namespace (repeating that is harmless),
 * creates a fresh namespace for the instances and returns its name.
 */
export async function prepareNamespace(
  controlPlane: ControlPlane,
  prefix: string,
): Promise<string> {
  await controlPlane.kubectl([
    'apply',
    '-f',
    join(repoRoot, 'crds/containerinstances.novadocker.io.yaml'),
  ]);
  await controlPlane.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/containerinstances.novadocker.io',
  ]);
  await controlPlane.kubectl(['apply', '-f', join(repoRoot, 'manifests/namespace.yaml')]);

  const namespace = `${prefix}-${randomBytes(3).toString('hex')}`;
  await controlPlane.kubectl(['create', 'namespace', namespace]);
  return namespace;
}

/**
 * Writes a Secret holding one cloud of a clouds.yaml file (the operator's
 * default Secret names no cloud) and returns its `namespace/name`.
 */
export async function writeCloudSecret(
  controlPlane: ControlPlane,
  name: string,
  cloudsYamlPath: string,
  cloudName: string,
): Promise<string> {
  const secret = buildCloudSecret({
    cloudsYamlPath,
    cloud: cloudName,
    namespace: OPERATOR_NAMESPACE,
    name,
  });
  await controlPlane.kubectl(['apply', '-f', '-'], { input: JSON.stringify(secret) });
  return `${OPERATOR_NAMESPACE}/${name}`;
}

async function findContainer(
  docker: Docker,
  serverID: string,
): Promise<ServerContainer | undefined> {
  const [found] = await docker.listContainers({
    all: true,
    filters: { label: [`${SERVER_LABEL}=${serverID}`] },
  });
  if (!found) return undefined;
  const info = await docker.getContainer(found.Id).inspect();
  return { running: info.State.Running, env: info.Config.Env ?? [], cmd: info.Config.Cmd ?? [] };
}
