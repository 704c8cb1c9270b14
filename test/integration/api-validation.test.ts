import assert from 'node:assert/strict';

import { API_VERSION, KIND } from '../../src/api/constants.js';
import type { ContainerInstanceSpec } from '../../src/api/types.js';
import { createTestNamespace, useContainerInstanceCrd } from '../support/containerinstance-crd.js';
import type { ControlPlane } from '../support/controlplane.js';

/**
 * Bad ContainerInstance manifests sent to a real kube-apiserver with the
 * generated CRD installed. Every row must be rejected with a message that
 * names the field, and must leave nothing behind.
 */

type Manifest = Record<string, unknown>;

interface CreateCase {
  name: string;
  /** Builds the spec from a valid one; return undefined to drop spec entirely. */
  spec?: (valid: ContainerInstanceSpec) => unknown;
  /** Extra top-level fields, e.g. an unknown one. */
  extra?: Manifest;
  /** Field path the apiserver names, e.g. spec.env[1]; omitted when the message names it. */
  field?: string;
  /** Fragment of the message the apiserver prints after the field. */
  message: string;
}

const validSpec = (): ContainerInstanceSpec => ({
  image: 'docker.io/library/nginx:1.27',
  flavor: 'm1.small',
});

const digest64 = 'a'.repeat(64);
const envEntries = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ name: `VAR_${i}`, value: 'x' }));

const createCases: CreateCase[] = [
  { name: 'missing spec', spec: () => undefined, field: 'spec', message: 'Required value' },
  {
    name: 'missing image',
    spec: ({ flavor }) => ({ flavor }),
    field: 'spec.image',
    message: 'Required value',
  },
  {
    name: 'empty image',
    spec: (s) => ({ ...s, image: '' }),
    field: 'spec.image',
    message: 'spec.image in body should be at least 1 chars long',
  },
  {
    name: 'malformed image reference with scheme',
    spec: (s) => ({ ...s, image: 'https://registry.example.com/web:1' }),
    field: 'spec.image',
    message: 'must be a Docker image reference',
  },
  {
    name: 'uppercase image repository',
    spec: (s) => ({ ...s, image: 'registry.example.com/Team/Web:1' }),
    field: 'spec.image',
    message: 'must be a Docker image reference',
  },
  {
    name: 'image tag with a space',
    spec: (s) => ({ ...s, image: 'nginx:1 27' }),
    field: 'spec.image',
    message: 'must be a Docker image reference',
  },
  {
    name: 'short image digest',
    spec: (s) => ({ ...s, image: 'nginx@sha256:abc123' }),
    field: 'spec.image',
    message: 'digest must be @sha256: followed by 64 lowercase hexadecimal digits',
  },
  {
    name: 'digest with sha512 algorithm',
    spec: (s) => ({ ...s, image: `nginx@sha512:${digest64}` }),
    field: 'spec.image',
    message: 'digest must be @sha256: followed by 64 lowercase hexadecimal digits',
  },
  {
    name: 'uppercase hex in digest',
    spec: (s) => ({ ...s, image: `nginx@sha256:${'A'.repeat(64)}` }),
    field: 'spec.image',
    message: 'digest must be @sha256:',
  },
  {
    name: 'image reference too long',
    spec: (s) => ({ ...s, image: `registry.example.com/${'a'.repeat(240)}:1` }),
    field: 'spec.image',
    message: 'Too long: may not be',
  },
  {
    name: 'missing flavor',
    spec: ({ image }) => ({ image }),
    field: 'spec.flavor',
    message: 'Required value',
  },
  {
    name: 'empty flavor',
    spec: (s) => ({ ...s, flavor: '' }),
    field: 'spec.flavor',
    message: 'spec.flavor in body should be at least 1 chars long',
  },
  {
    name: 'flavor of wrong type',
    spec: (s) => ({ ...s, flavor: 123 }),
    field: 'spec.flavor',
    message: 'spec.flavor in body must be of type string',
  },
  {
    name: 'unknown powerState',
    spec: (s) => ({ ...s, powerState: 'Sleeping' }),
    field: 'spec.powerState',
    message: 'Unsupported value: "Sleeping": supported values: "Running", "Stopped", "Paused"',
  },
  {
    name: 'unknown deletionPolicy',
    spec: (s) => ({ ...s, deletionPolicy: 'Keep' }),
    field: 'spec.deletionPolicy',
    message: 'Unsupported value: "Keep": supported values: "Delete", "Orphan"',
  },
  {
    name: 'env of wrong type',
    spec: (s) => ({ ...s, env: 'A=1' }),
    field: 'spec.env',
    message: 'spec.env in body must be of type array',
  },
  {
    name: 'duplicate env name',
    spec: (s) => ({
      ...s,
      env: [
        { name: 'A', value: '1' },
        { name: 'A', value: '2' },
      ],
    }),
    field: 'spec.env[1]',
    message: 'Duplicate value: {"name":"A"}',
  },
  {
    name: 'env over 100 entries',
    spec: (s) => ({ ...s, env: envEntries(101) }),
    field: 'spec.env',
    message: 'Too many: 101: must have at most 100 items',
  },
  {
    name: 'env name starting with digit',
    spec: (s) => ({ ...s, env: [{ name: '1BAD', value: 'x' }] }),
    field: 'spec.env[0].name',
    message: 'spec.env[0].name in body should match',
  },
  {
    name: 'env name with dash',
    spec: (s) => ({ ...s, env: [{ name: 'LOG-LEVEL', value: 'x' }] }),
    field: 'spec.env[0].name',
    message: '"LOG-LEVEL"',
  },
  {
    name: 'env value too long',
    spec: (s) => ({ ...s, env: [{ name: 'A', value: 'x'.repeat(256) }] }),
    field: 'spec.env[0].value',
    message: 'Too long: may not be',
  },
  {
    name: 'env value and valueFrom',
    spec: (s) => ({
      ...s,
      env: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
    }),
    field: 'spec.env[0]',
    message: 'exactly one of value or valueFrom must be set',
  },
  {
    name: 'env without value or valueFrom',
    spec: (s) => ({ ...s, env: [{ name: 'A' }] }),
    field: 'spec.env[0]',
    message: 'exactly one of value or valueFrom must be set',
  },
  {
    name: 'secretKeyRef without key',
    spec: (s) => ({ ...s, env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's' } } }] }),
    field: 'spec.env[0].valueFrom.secretKeyRef.key',
    message: 'Required value',
  },
  {
    name: 'command of wrong type',
    spec: (s) => ({ ...s, command: '/bin/web --flag' }),
    field: 'spec.command',
    message: 'spec.command in body must be of type array',
  },
  {
    name: 'tag with a comma',
    spec: (s) => ({ ...s, tags: ['team,web'] }),
    field: `spec.tags[0]`,
    message: `spec.tags[0] in body should match '^[^,/]+$'`,
  },
  {
    name: 'tag with a slash',
    spec: (s) => ({ ...s, tags: ['team/web'] }),
    field: `spec.tags[0]`,
    message: `spec.tags[0] in body should match '^[^,/]+$'`,
  },
  {
    name: 'tag too long',
    spec: (s) => ({ ...s, tags: ['t'.repeat(61)] }),
    field: 'spec.tags[0]',
    message: 'Too long: may not be',
  },
  {
    name: 'more than 20 tags',
    spec: (s) => ({ ...s, tags: Array.from({ length: 21 }, (_, i) => `tag-${i}`) }),
    field: 'spec.tags',
    message: 'Too many: 21: must have at most 20 items',
  },
  {
    name: 'duplicate tag',
    spec: (s) => ({ ...s, tags: ['web', 'web'] }),
    field: 'spec.tags[1]',
    message: 'Duplicate value: "web"',
  },
  {
    name: 'reserved ownership tag',
    spec: (s) => ({ ...s, tags: ['cinst-0f6a1c2e'] }),
    field: 'spec.tags[0]',
    message: 'tags named novadocker.io-managed or starting with cinst- are reserved',
  },
  {
    name: 'network entry with two keys',
    spec: (s) => ({
      ...s,
      networks: [{ name: 'private', id: '2f4e8c1a-7d3b-4e59-9a61-0c8b5d2e7f13' }],
    }),
    field: 'spec.networks[0]',
    message: 'exactly one of name, id or port must be set',
  },
  {
    name: 'empty network entry',
    spec: (s) => ({ ...s, networks: [{}] }),
    field: 'spec.networks[0]',
    message: 'exactly one of name, id or port must be set',
  },
  {
    name: 'network id not a UUID',
    spec: (s) => ({ ...s, networks: [{ id: 'private' }] }),
    field: 'spec.networks[0].id',
    message: 'spec.networks[0].id in body should match',
  },
  {
    name: 'duplicate security group',
    spec: (s) => ({ ...s, securityGroups: ['web', 'web'] }),
    field: 'spec.securityGroups[1]',
    message: 'Duplicate value: "web"',
  },
  {
    name: 'pull secret invalid name',
    spec: (s) => ({ ...s, imagePullSecrets: [{ name: 'Team_Registry' }] }),
    field: 'spec.imagePullSecrets[0].name',
    message: '"Team_Registry"',
  },
  {
    name: 'cloud without cloudName',
    spec: (s) => ({ ...s, cloud: { secretName: 'team-cloud' } }),
    field: 'spec.cloud.cloudName',
    message: 'Required value',
  },
  {
    name: 'unknown spec field strict',
    spec: (s) => ({ ...s, replicas: 2 }),
    message: 'unknown field "spec.replicas"',
  },
  {
    name: 'unknown top-level field strict',
    extra: { extras: { a: 1 } },
    message: 'unknown field "extras"',
  },
];

interface UpdateCase {
  name: string;
  initial: Partial<ContainerInstanceSpec>;
  /** JSON merge patch applied to the created object. */
  patch: Manifest;
  field: string;
  message: string;
}

const cloud = { secretName: 'team-cloud', cloudName: 'openstack' };

const updateCases: UpdateCase[] = [
  {
    name: 'changing availabilityZone',
    initial: { availabilityZone: 'az1' },
    patch: { spec: { availabilityZone: 'az2' } },
    field: 'spec.availabilityZone',
    message: 'availabilityZone is immutable once set',
  },
  {
    name: 'removing availabilityZone',
    initial: { availabilityZone: 'az1' },
    patch: { spec: { availabilityZone: null } },
    field: 'spec.availabilityZone',
    message: 'availabilityZone cannot be added or removed after creation',
  },
  {
    name: 'adding availabilityZone later',
    initial: {},
    patch: { spec: { availabilityZone: 'az1' } },
    field: 'spec.availabilityZone',
    message: 'availabilityZone cannot be added or removed after creation',
  },
  {
    name: 'changing cloud secretName',
    initial: { cloud },
    patch: { spec: { cloud: { secretName: 'other-cloud' } } },
    field: 'spec.cloud',
    message: 'cloud is immutable once set',
  },
  {
    name: 'changing cloud cloudName',
    initial: { cloud },
    patch: { spec: { cloud: { cloudName: 'other' } } },
    field: 'spec.cloud',
    message: 'cloud is immutable once set',
  },
  {
    name: 'removing cloud',
    initial: { cloud },
    patch: { spec: { cloud: null } },
    field: 'spec.cloud',
    message: 'cloud cannot be added or removed after creation',
  },
];

/** Asserts that one line of kubectl's error output names the field and carries the message. */
function assertFieldError(stderr: string, expected: { field?: string; message: string }): void {
  const prefix = expected.field === undefined ? '' : `${expected.field}: `;
  const line = stderr
    .split('\n')
    .find((text) => text.includes(prefix) && text.includes(expected.message));
  assert.ok(
    line,
    `expected a line with ${JSON.stringify(prefix)} and ${JSON.stringify(expected.message)} in: ${stderr}`,
  );
}

function manifest(name: string, spec: unknown, extra: Manifest = {}): Manifest {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name },
    ...(spec === undefined ? {} : { spec }),
    ...extra,
  };
}

describe('ContainerInstance validation', function () {
  this.timeout(120_000);

  let controlPlane: ControlPlane;
  let namespace: string;

  before(async () => {
    controlPlane = await useContainerInstanceCrd();
    namespace = await createTestNamespace(controlPlane, 'api-validation');
  });

  it('accepts the valid base manifest', async () => {
    const result = await controlPlane.kubectl(
      ['create', '--dry-run=server', '--validate=strict', '-n', namespace, '-f', '-'],
      { input: JSON.stringify(manifest('valid-base', validSpec())), allowFailure: true },
    );
    assert.equal(result.code, 0, result.stderr);
  });

  describe('rejects on create', () => {
    createCases.forEach((row, index) => {
      it(row.name, async () => {
        const name = `bad-create-${index}`;
        const spec = row.spec ? row.spec(validSpec()) : validSpec();
        const result = await controlPlane.kubectl(
          ['create', '--validate=strict', '-n', namespace, '-f', '-'],
          {
            input: JSON.stringify(manifest(name, spec, row.extra)),
            allowFailure: true,
          },
        );

        assert.notEqual(result.code, 0, `expected a rejection, kubectl printed: ${result.stdout}`);
        assertFieldError(result.stderr, row);

        const lookup = await controlPlane.kubectl(['get', 'cinst', name, '-n', namespace], {
          allowFailure: true,
        });
        assert.match(
          lookup.stderr,
          /NotFound|not found/,
          `rejected object ${name} exists: ${lookup.stdout}`,
        );
      });
    });
  });

  describe('rejects on update', () => {
    updateCases.forEach((row, index) => {
      it(row.name, async () => {
        const name = `bad-update-${index}`;
        const initial = { ...validSpec(), ...row.initial };
        await controlPlane.kubectl(['create', '-n', namespace, '-f', '-'], {
          input: JSON.stringify(manifest(name, initial)),
        });

        const result = await controlPlane.kubectl(
          [
            'patch',
            'cinst',
            name,
            '-n',
            namespace,
            '--type=merge',
            '-p',
            JSON.stringify(row.patch),
          ],
          { allowFailure: true },
        );

        assert.notEqual(result.code, 0, `expected a rejection, kubectl printed: ${result.stdout}`);
        assertFieldError(result.stderr, row);

        const stored = await controlPlane.kubectl([
          'get',
          'cinst',
          name,
          '-n',
          namespace,
          '-o',
          'json',
        ]);
        const storedSpec = (JSON.parse(stored.stdout) as { spec: Record<string, unknown> }).spec;
        assert.deepEqual(
          storedSpec.availabilityZone,
          initial.availabilityZone,
          'availabilityZone changed',
        );
        assert.deepEqual(storedSpec.cloud, initial.cloud, 'cloud changed');
      });
    });
  });

  it('rejects an unknown status phase', async () => {
    const name = 'bad-status-phase';
    await controlPlane.kubectl(['create', '-n', namespace, '-f', '-'], {
      input: JSON.stringify(manifest(name, validSpec())),
    });

    const result = await controlPlane.kubectl(
      [
        'patch',
        'cinst',
        name,
        '-n',
        namespace,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Sleeping"}}',
      ],
      { allowFailure: true },
    );

    assert.notEqual(result.code, 0, `expected a rejection, kubectl printed: ${result.stdout}`);
    assertFieldError(result.stderr, {
      field: 'status.phase',
      message: 'Unsupported value: "Sleeping"',
    });
  });
});
