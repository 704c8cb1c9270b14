import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse, parseAllDocuments } from 'yaml';

import { GROUP, PLURAL } from '../../src/api/constants.js';

/**
 * Static checks of the kustomize base: least-privilege RBAC and a locked-down
 * Deployment. The integration tests show the apiserver accepts the same files.
 */

const manifests = fileURLToPath(new URL('../../../manifests/', import.meta.url));

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

type Document = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function documents(file: string): Promise<Document[]> {
  const text = await readFile(path.join(manifests, file), 'utf8');
  return parseAllDocuments(text).map((document) => document.toJS() as Document);
}

async function find(file: string, kind: string): Promise<Document> {
  const found = (await documents(file)).find((document) => document.kind === kind);
  assert.ok(found, `${file} has no ${kind}`);
  return found;
}

/** Flattens rules to sorted `group/resource:verb` strings. */
function permissions(rules: PolicyRule[]): string[] {
  return rules
    .flatMap((rule) =>
      rule.apiGroups.flatMap((group) =>
        rule.resources.flatMap((resource) =>
          rule.verbs.map((verb) => `${group}/${resource}:${verb}`),
        ),
      ),
    )
    .sort();
}

describe('manifests', () => {
  it('kustomization lists files that exist', async () => {
    const kustomization = parse(
      await readFile(path.join(manifests, 'kustomization.yaml'), 'utf8'),
    ) as { resources: string[] };
    for (const resource of kustomization.resources) {
      await assert.doesNotReject(
        readFile(
          path.join(
            manifests,
            resource.endsWith('.yaml') ? resource : `${resource}/kustomization.yaml`,
          ),
        ),
        resource,
      );
    }
  });

  it('cluster role grants only what the operator uses', async () => {
    const role = await find('rbac.yaml', 'ClusterRole');
    assert.deepEqual(permissions(role.rules), [
      '/events:create',
      '/events:patch',
      '/secrets:get',
      '/secrets:list',
      '/secrets:watch',
      `events.k8s.io/events:create`,
      `events.k8s.io/events:patch`,
      `${GROUP}/${PLURAL}/finalizers:update`,
      `${GROUP}/${PLURAL}/status:get`,
      `${GROUP}/${PLURAL}/status:patch`,
      `${GROUP}/${PLURAL}/status:update`,
      `${GROUP}/${PLURAL}:get`,
      `${GROUP}/${PLURAL}:list`,
      `${GROUP}/${PLURAL}:patch`,
      `${GROUP}/${PLURAL}:update`,
      `${GROUP}/${PLURAL}:watch`,
    ]);
  });

  it('leader election role covers leases only', async () => {
    const role = await find('rbac.yaml', 'Role');
    assert.equal(role.metadata.namespace, 'nova-docker-operator');
    assert.deepEqual(permissions(role.rules), [
      'coordination.k8s.io/leases:create',
      'coordination.k8s.io/leases:get',
      'coordination.k8s.io/leases:update',
    ]);
  });

  it('no RBAC rule uses a wildcard', async () => {
    const text = JSON.stringify(await documents('rbac.yaml'));
    assert.doesNotMatch(text, /"\*"/);
  });

  it('bindings name the operator service account', async () => {
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      const binding = await find('rbac.yaml', kind);
      assert.deepEqual(
        binding.subjects,
        [
          {
            kind: 'ServiceAccount',
            name: 'nova-docker-operator',
            namespace: 'nova-docker-operator',
          },
        ],
        kind,
      );
    }
  });

  describe('deployment', () => {
    let deployment: Document;
    let container: Document;

    before(async () => {
      deployment = await find('deployment.yaml', 'Deployment');
      container = deployment.spec.template.spec.containers[0];
    });

    it('runs two replicas with leader election', () => {
      assert.equal(deployment.spec.replicas, 2);
      assert.ok(container.args.includes('--leader-elect'));
      assert.ok(container.args.includes('--leader-election-namespace=$(POD_NAMESPACE)'));
    });

    it('passes the operator flags', () => {
      assert.deepEqual(container.args, [
        'run',
        '--leader-elect',
        '--leader-election-namespace=$(POD_NAMESPACE)',
        '--metrics-bind-address=:8080',
        '--health-probe-bind-address=:8081',
        '--default-cloud-secret=nova-docker-operator/openstack-cloud',
        '--log-level=info',
      ]);
    });

    it('runs as non-root with RuntimeDefault seccomp', () => {
      const pod = deployment.spec.template.spec.securityContext;
      assert.equal(pod.runAsNonRoot, true);
      assert.equal(pod.seccompProfile.type, 'RuntimeDefault');
      assert.equal(container.securityContext.runAsNonRoot, true);
    });

    it('locks down the container', () => {
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
      assert.equal(container.securityContext.capabilities.add, undefined);
    });

    it('sets requests and limits', () => {
      for (const bound of ['requests', 'limits']) {
        assert.ok(container.resources[bound].cpu, `${bound}.cpu`);
        assert.ok(container.resources[bound].memory, `${bound}.memory`);
      }
    });

    it('probes health on port 8081', () => {
      const ports = Object.fromEntries(
        container.ports.map((port: Document) => [port.name, port.containerPort]),
      );
      assert.deepEqual(ports, { metrics: 8080, health: 8081 });
      assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'health' });
      assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'health' });
    });
  });
});
