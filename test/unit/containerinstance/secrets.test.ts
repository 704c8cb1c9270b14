import assert from 'node:assert/strict';

import type { V1Secret } from '@kubernetes/client-node';

import type { ContainerInstance, ContainerInstanceSpec } from '../../../src/api/index.js';
import { CloudResolver, type SecretCache } from '../../../src/containerinstance/cloud.js';
import { resolveEnv } from '../../../src/containerinstance/env.js';
import { ReconcileFailure } from '../../../src/containerinstance/failures.js';
import { instancesUsingSecret } from '../../../src/containerinstance/wiring.js';
import { OpenStackClientCache } from '../../../src/openstack/index.js';

const cloudsYaml = `clouds:
  prod:
    auth:
      auth_url: https://keystone.example.com:5000/v3
      username: operator
      password: hunter2-very-secret
      user_domain_name: Default
      project_name: containers
      project_domain_name: Default
    region_name: RegionOne
`;

/** Builds a Secret cache over a list, with the informer's get() and hasSynced(). */
function cache(secrets: V1Secret[], synced = true): SecretCache {
  return {
    get: (name, namespace) =>
      secrets.find(
        (secret) => secret.metadata?.name === name && secret.metadata?.namespace === namespace,
      ),
    hasSynced: () => synced,
  };
}

function secret(
  namespace: string,
  name: string,
  data: Record<string, string>,
  resourceVersion = '1',
): V1Secret {
  return {
    metadata: { namespace, name, resourceVersion },
    data: Object.fromEntries(
      Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
  };
}

function instance(
  spec: Partial<ContainerInstanceSpec> = {},
  namespace = 'team-a',
): ContainerInstance {
  return {
    apiVersion: 'novadocker.io/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name: 'web', namespace, uid: '3f2b6c1e-8d4a-4b5e-9f60-1a2b3c4d5e6f' },
    spec: { image: 'nginx:1.27', flavor: 'm1.small', ...spec },
  };
}

/** Runs fn and returns the ReconcileFailure it throws. */
function failureOf(fn: () => unknown): ReconcileFailure {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ReconcileFailure, `expected a ReconcileFailure, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a failure');
}

describe('cloud and env resolution', () => {
  const clients = new OpenStackClientCache();
  after(() => clients.close());

  describe('CloudResolver.config', () => {
    it('reads spec.cloud from the instance namespace', () => {
      const resolver = new CloudResolver({
        secrets: cache([secret('team-a', 'openstack', { 'clouds.yaml': cloudsYaml })]),
        clients,
      });
      const config = resolver.config(
        instance({ cloud: { secretName: 'openstack', cloudName: 'prod' } }),
      );
      assert.equal(config.cloudName, 'prod');
    });

    it('uses the default Secret without spec.cloud', () => {
      const resolver = new CloudResolver({
        secrets: cache([]),
        defaultSecret: { namespace: 'operators', name: 'cloud' },
        defaultSecrets: cache([secret('operators', 'cloud', { 'clouds.yaml': cloudsYaml })]),
        clients,
      });
      assert.equal(resolver.config(instance()).regionName, 'RegionOne');
    });

    it('parses each Secret version once', () => {
      const resolver = new CloudResolver({
        secrets: cache([secret('team-a', 'openstack', { 'clouds.yaml': cloudsYaml })]),
        clients,
      });
      const withCloud = instance({ cloud: { secretName: 'openstack', cloudName: 'prod' } });
      assert.equal(resolver.config(withCloud), resolver.config(withCloud));
    });

    it('stalls without any cloud', () => {
      const failure = failureOf(() =>
        new CloudResolver({ secrets: cache([]), clients }).config(instance()),
      );
      assert.equal(failure.reason, 'NoCloudConfigured');
      assert.equal(failure.kind, 'stalled');
    });

    it('stalls naming a missing Secret', () => {
      const resolver = new CloudResolver({ secrets: cache([]), clients });
      const failure = failureOf(() =>
        resolver.config(instance({ cloud: { secretName: 'gone', cloudName: 'prod' } })),
      );
      assert.equal(failure.reason, 'SecretNotFound');
      assert.match(
        failure.message,
        /Secret team-a\/gone named by spec\.cloud\.secretName not found/,
      );
    });

    it('names the keys of a Secret without clouds.yaml', () => {
      const resolver = new CloudResolver({
        secrets: cache([secret('team-a', 'openstack', { other: 'x' })]),
        clients,
      });
      const failure = failureOf(() =>
        resolver.config(instance({ cloud: { secretName: 'openstack', cloudName: 'prod' } })),
      );
      assert.equal(failure.reason, 'InvalidCloudConfig');
      assert.match(failure.message, /has no clouds\.yaml key \(keys: other\)/);
    });

    it('stalls on an unknown cloud name without quoting the file', () => {
      const resolver = new CloudResolver({
        secrets: cache([secret('team-a', 'openstack', { 'clouds.yaml': cloudsYaml })]),
        clients,
      });
      const failure = failureOf(() =>
        resolver.config(instance({ cloud: { secretName: 'openstack', cloudName: 'dev' } })),
      );
      assert.equal(failure.reason, 'InvalidCloudConfig');
      assert.doesNotMatch(failure.message, /hunter2/);
    });

    it('waits for the Secret cache to sync', () => {
      const resolver = new CloudResolver({ secrets: cache([], false), clients });
      const failure = failureOf(() =>
        resolver.config(instance({ cloud: { secretName: 'openstack', cloudName: 'prod' } })),
      );
      assert.equal(failure.kind, 'transient');
    });
  });

  describe('resolveEnv', () => {
    const secrets = cache([secret('team-a', 'app', { token: 's3cr3t' })]);

    it('resolves values and Secret keys', () => {
      const metadata = resolveEnv(
        instance({
          env: [
            { name: 'MODE', value: 'blue' },
            { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'app', key: 'token' } } },
          ],
        }),
        secrets,
      );
      assert.deepEqual(metadata, { MODE: 'blue', TOKEN: 's3cr3t' });
    });

    it('stalls naming a missing key and the keys present', () => {
      const failure = failureOf(() =>
        resolveEnv(
          instance({
            env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'app', key: 'nope' } } }],
          }),
          secrets,
        ),
      );
      assert.equal(failure.reason, 'SecretKeyNotFound');
      assert.match(failure.message, /has no key "nope" \(keys: token\)/);
    });

    it('stalls on a value longer than Nova accepts without quoting it', () => {
      const long = cache([secret('team-a', 'big', { value: 'v'.repeat(300) })]);
      const failure = failureOf(() =>
        resolveEnv(
          instance({
            env: [{ name: 'BIG', valueFrom: { secretKeyRef: { name: 'big', key: 'value' } } }],
          }),
          long,
        ),
      );
      assert.equal(failure.reason, 'EnvValueTooLong');
      assert.doesNotMatch(failure.message, /vvvv/);
    });

    it('looks only in the instance namespace', () => {
      const failure = failureOf(() =>
        resolveEnv(
          instance(
            { env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'app', key: 'token' } } }] },
            'team-b',
          ),
          secrets,
        ),
      );
      assert.equal(failure.reason, 'SecretNotFound');
    });
  });

  describe('instancesUsingSecret', () => {
    const instances = [
      {
        ...instance({ cloud: { secretName: 'cloud-a', cloudName: 'prod' } }),
        metadata: { name: 'one', namespace: 'team-a' },
      },
      {
        ...instance({
          env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'app', key: 'k' } } }],
        }),
        metadata: { name: 'two', namespace: 'team-a' },
      },
      {
        ...instance({ imagePullSecrets: [{ name: 'pull' }] }),
        metadata: { name: 'three', namespace: 'team-a' },
      },
      { ...instance(), metadata: { name: 'four', namespace: 'team-b' } },
    ];
    const defaultSecret = { namespace: 'operators', name: 'cloud' };
    const keys = (namespace: string, name: string) =>
      instancesUsingSecret(instances, { metadata: { namespace, name } }, defaultSecret);

    it('maps a cloud Secret', () => {
      assert.deepEqual(keys('team-a', 'cloud-a'), ['team-a/one']);
    });

    it('maps an env Secret', () => {
      assert.deepEqual(keys('team-a', 'app'), ['team-a/two']);
    });

    it('maps a pull Secret', () => {
      assert.deepEqual(keys('team-a', 'pull'), ['team-a/three']);
    });

    it('maps the default Secret to instances without spec.cloud', () => {
      assert.deepEqual(keys('operators', 'cloud'), ['team-a/two', 'team-a/three', 'team-b/four']);
    });

    it('ignores a Secret of another namespace', () => {
      assert.deepEqual(keys('team-b', 'app'), []);
    });
  });
});
