import assert from 'node:assert/strict';
import path from 'node:path';

import { CRD_NAME } from '../../src/api/constants.js';
import { createTestNamespace, useContainerInstanceCrd } from '../support/containerinstance-crd.js';
import type { ControlPlane } from '../support/controlplane.js';
import { repoRoot } from '../support/host-packages.js';
import { waitFor } from '../support/process.js';

/**
 * The generated CRD, the kustomize base and the samples against a real
 * kube-apiserver: what `kubectl apply`, `kubectl explain` and `kubectl get`
 * show a user.
 */

const samples = path.join(repoRoot, 'manifests/samples');

describe('ContainerInstance CRD on kube-apiserver', function () {
  this.timeout(120_000);

  let controlPlane: ControlPlane;
  let namespace: string;

  before(async () => {
    controlPlane = await useContainerInstanceCrd();
    namespace = await createTestNamespace(controlPlane, 'api-crd');
  });

  it('installs as Established', async () => {
    const result = await controlPlane.kubectl([
      'get',
      'crd',
      CRD_NAME,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Established")].status}',
    ]);
    assert.equal(result.stdout, 'True');
  });

  it('explains spec.env with its description', async () => {
    let output = '';
    // kubectl explain reads the OpenAPI document, which the apiserver
    // republishes a moment after the CRD becomes Established.
    await waitFor('kubectl explain containerinstance.spec.env', async () => {
      const result = await controlPlane.kubectl(['explain', 'containerinstance.spec.env'], {
        allowFailure: true,
      });
      output = result.stdout;
      return result.code === 0;
    });
    assert.match(output, /FIELD: env <\[\]Object>/);
    assert.match(output, /Environment variables of the container, at most 100, with unique names/);
    assert.match(output, /name\s+<string> -required-/);
    assert.match(output, /valueFrom\s+<Object>/);
  });

  it('explains every spec field', async () => {
    const result = await controlPlane.kubectl(['explain', 'containerinstance.spec']);
    for (const field of [
      'image',
      'command',
      'env',
      'flavor',
      'networks',
      'securityGroups',
      'keyName',
      'availabilityZone',
      'powerState',
      'imagePullSecrets',
      'cloud',
      'deletionPolicy',
      'tags',
    ]) {
      assert.match(
        result.stdout,
        new RegExp(`^  ${field}\\s+<`, 'm'),
        `spec.${field} missing from kubectl explain`,
      );
    }
  });

  for (const sample of ['minimal.yaml', 'full.yaml', 'private-registry.yaml']) {
    it(`accepts sample ${sample}`, async () => {
      const result = await controlPlane.kubectl(
        ['apply', '--validate=strict', '-n', namespace, '-f', path.join(samples, sample)],
        {
          allowFailure: true,
        },
      );
      assert.equal(result.code, 0, result.stderr);
    });
  }

  it('defaults powerState and deletionPolicy', async () => {
    await controlPlane.kubectl([
      'apply',
      '-n',
      namespace,
      '-f',
      path.join(samples, 'minimal.yaml'),
    ]);
    const result = await controlPlane.kubectl([
      'get',
      'cinst',
      'hello',
      '-n',
      namespace,
      '-o',
      'jsonpath={.spec.powerState}/{.spec.deletionPolicy}',
    ]);
    assert.equal(result.stdout, 'Running/Delete');
  });

  it('shows status columns in wide output', async () => {
    await controlPlane.kubectl([
      'apply',
      '-n',
      namespace,
      '-f',
      path.join(samples, 'minimal.yaml'),
    ]);
    const status = {
      status: {
        phase: 'Running',
        serverID: '6f1c0d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f',
        addresses: [{ network: 'private', ip: '10.0.0.12', version: 4 }],
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'ServerActive',
            message: 'server is ACTIVE',
            lastTransitionTime: '2025-01-02T03:04:05Z',
          },
        ],
      },
    };
    await controlPlane.kubectl([
      'patch',
      'cinst',
      'hello',
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(status),
    ]);

    const wide = await controlPlane.kubectl([
      'get',
      'cinst',
      'hello',
      '-n',
      namespace,
      '-o',
      'wide',
    ]);
    const [header, row] = wide.stdout.trim().split('\n');
    assert.deepEqual(header?.split(/\s{2,}/), [
      'NAME',
      'PHASE',
      'IMAGE',
      'SERVER',
      'ADDRESS',
      'READY',
      'AGE',
      'FLAVOR',
      'MESSAGE',
    ]);
    const cells = row?.split(/\s{2,}/) ?? [];
    assert.deepEqual(cells.slice(0, 6), [
      'hello',
      'Running',
      'docker.io/library/nginx:1.27',
      '6f1c0d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f',
      '10.0.0.12',
      'True',
    ]);
    assert.deepEqual(cells.slice(7), ['m1.small', 'server is ACTIVE']);
  });

  it('hides wide columns by default', async () => {
    await controlPlane.kubectl([
      'apply',
      '-n',
      namespace,
      '-f',
      path.join(samples, 'minimal.yaml'),
    ]);
    const narrow = await controlPlane.kubectl(['get', 'cinst', '-n', namespace]);
    assert.deepEqual(narrow.stdout.split('\n')[0]?.split(/\s{2,}/), [
      'NAME',
      'PHASE',
      'IMAGE',
      'SERVER',
      'ADDRESS',
      'READY',
      'AGE',
    ]);
  });

  it('accepts the kustomize base server-side', async () => {
    // A server-side dry run creates nothing, so the namespace the base creates
    // must already exist for the namespaced objects in it to pass.
    await controlPlane.kubectl(['apply', '-f', path.join(repoRoot, 'manifests/namespace.yaml')]);
    const result = await controlPlane.kubectl(
      ['apply', '-k', path.join(repoRoot, 'manifests'), '--dry-run=server', '--validate=strict'],
      {
        allowFailure: true,
      },
    );
    assert.equal(result.code, 0, result.stderr);
    for (const object of [
      'deployment.apps/nova-docker-operator',
      'clusterrole.rbac.authorization.k8s.io/nova-docker-operator',
      'role.rbac.authorization.k8s.io/nova-docker-operator-leader-election',
    ]) {
      assert.ok(result.stdout.includes(object), `${object} missing from: ${result.stdout}`);
    }
  });

  it('accepts the example cloud Secret', async () => {
    const result = await controlPlane.kubectl(
      [
        'apply',
        '--dry-run=server',
        '--validate=strict',
        '-f',
        path.join(repoRoot, 'manifests/openstack-cloud-secret.example.yaml'),
      ],
      { allowFailure: true },
    );
    assert.equal(result.code, 0, result.stderr);
  });
});
