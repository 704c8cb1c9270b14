/**
 * A tiny namespaced custom resource for testing the generic controller
 * machinery (informers, status writes, finalizers, Events) on the real
 * kube-apiserver without depending on the ContainerInstance schema.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

import type { CustomResourceType } from '../../src/kube/resource.js';
import type { ControlPlane } from './controlplane.js';

/** An object of a test resource: free-form spec and status. */
export interface TestObject extends KubernetesObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** Returns the type of the test resource with this plural, in group test.novadocker.io. */
export function testResourceType(plural = 'widgets'): CustomResourceType {
  const kind = plural.charAt(0).toUpperCase() + plural.slice(1, -1);
  return { group: 'test.novadocker.io', version: 'v1', plural, kind };
}

/** Returns the CustomResourceDefinition manifest (JSON) of a test resource; extraColumn adds a printer column, a spec change. */
export function testCrdManifest(type: CustomResourceType, extraColumn?: string): string {
  const columns = extraColumn
    ? [{ name: extraColumn, type: 'string', jsonPath: `.spec.${extraColumn}` }]
    : [];
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${type.plural}.${type.group}` },
    spec: {
      group: type.group,
      scope: 'Namespaced',
      names: {
        plural: type.plural,
        singular: type.kind.toLowerCase(),
        kind: type.kind,
        listKind: `${type.kind}List`,
      },
      versions: [
        {
          name: type.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              },
            },
          },
        },
      ],
    },
  });
}

/** Installs (or updates) the test CRD and waits until the API server serves it. */
export async function installTestCrd(
  controlPlane: ControlPlane,
  type: CustomResourceType,
  extraColumn?: string,
): Promise<void> {
  await controlPlane.kubectl(['apply', '-f', '-'], { input: testCrdManifest(type, extraColumn) });
  await controlPlane.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    `crd/${type.plural}.${type.group}`,
  ]);
}

let namespaceCounter = 0;

/** Creates a namespace with a unique name for one test and returns the name. */
export async function createTestNamespace(
  controlPlane: ControlPlane,
  prefix: string,
): Promise<string> {
  namespaceCounter += 1;
  const name = `${prefix}-${process.pid}-${namespaceCounter}-${Date.now().toString(36)}`.slice(
    0,
    63,
  );
  await controlPlane.kubectl(['create', 'namespace', name]);
  return name;
}

/** Returns a manifest (JSON) of one test object. */
export function testObjectManifest(
  type: CustomResourceType,
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    apiVersion: `${type.group}/${type.version}`,
    kind: type.kind,
    metadata: { name, namespace },
    spec,
  });
}
