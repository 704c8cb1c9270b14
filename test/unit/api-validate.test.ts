import assert from 'node:assert/strict';

import { assertContainerInstance, validateContainerInstance } from '../../src/api/validate.js';
import type { ContainerInstance } from '../../src/api/types.js';
import { fullContainerInstance } from '../support/containerinstance-samples.js';

type Mutation = (instance: ContainerInstance & Record<string, unknown>) => void;

function errorsAfter(mutate: Mutation): string[] {
  const instance = fullContainerInstance() as ContainerInstance & Record<string, unknown>;
  mutate(instance);
  return validateContainerInstance(instance).errors;
}

const cases: { name: string; mutate: Mutation; expected: string }[] = [
  {
    name: 'missing image',
    mutate: (ci) => delete (ci.spec as Partial<typeof ci.spec>).image,
    expected: 'spec.image: Required value',
  },
  {
    name: 'malformed image reference',
    mutate: (ci) => (ci.spec.image = 'https://example.com/web'),
    expected: 'spec.image: must be a Docker image reference',
  },
  {
    name: 'short image digest',
    mutate: (ci) => (ci.spec.image = 'nginx@sha256:abc'),
    expected: 'spec.image: digest must be @sha256:',
  },
  {
    name: 'unknown powerState',
    mutate: (ci) => ((ci.spec as unknown as Record<string, unknown>).powerState = 'Sleeping'),
    expected: 'spec.powerState: must be equal to one of the allowed values',
  },
  {
    name: 'duplicate env name',
    mutate: (ci) => ci.spec.env?.push({ name: 'LOG_LEVEL', value: 'debug' }),
    expected: 'spec.env[2]: duplicate value ["LOG_LEVEL"] (same as item 0)',
  },
  {
    name: 'value and valueFrom',
    mutate: (ci) => (ci.spec.env![0]!.valueFrom = { secretKeyRef: { name: 's', key: 'k' } }),
    expected: 'spec.env[0]: exactly one of value or valueFrom must be set',
  },
  {
    name: 'network with two keys',
    mutate: (ci) => (ci.spec.networks![0]!.id = '2f4e8c1a-7d3b-4e59-9a61-0c8b5d2e7f13'),
    expected: 'spec.networks[0]: exactly one of name, id or port must be set',
  },
  {
    name: 'reserved tag',
    mutate: (ci) => ci.spec.tags?.push('novadocker.io-managed'),
    expected: 'spec.tags[2]: tags named novadocker.io-managed',
  },
  {
    name: 'duplicate tag',
    mutate: (ci) => ci.spec.tags?.push('team-web'),
    expected: 'spec.tags[2]: duplicate value "team-web" (same as item 0)',
  },
  {
    name: 'tag with a comma',
    mutate: (ci) => ci.spec.tags?.push('a,b'),
    expected: 'spec.tags[2]: must match pattern "^[^,/]+$"',
  },
  {
    name: 'too many env entries',
    mutate: (ci) =>
      (ci.spec.env = Array.from({ length: 101 }, (_, i) => ({ name: `V${i}`, value: '' }))),
    expected: 'spec.env: must NOT have more than 100 items',
  },
  {
    name: 'flavor of wrong type',
    mutate: (ci) => ((ci.spec as unknown as Record<string, unknown>).flavor = 7),
    expected: 'spec.flavor: must be string',
  },
  {
    name: 'bad condition time',
    mutate: (ci) => (ci.status!.conditions![0]!.lastTransitionTime = 'yesterday'),
    expected: 'status.conditions[0].lastTransitionTime: must match format "date-time"',
  },
  {
    name: 'wrong apiVersion',
    mutate: (ci) => ((ci as unknown as Record<string, unknown>).apiVersion = 'novadocker.io/v1'),
    expected: 'apiVersion: must be novadocker.io/v1alpha1, received "novadocker.io/v1"',
  },
];

describe('ContainerInstance validator', () => {
  for (const row of cases) {
    it(`reports ${row.name}`, () => {
      const errors = errorsAfter(row.mutate);
      assert.ok(
        errors.some((error) => error.startsWith(row.expected)),
        `expected an error starting with ${JSON.stringify(row.expected)}, received ${JSON.stringify(errors)}`,
      );
    });
  }

  it('skips transition rules without oldSelf', () => {
    assert.deepEqual(
      errorsAfter((ci) => (ci.spec.availabilityZone = 'elsewhere')),
      [],
    );
  });

  it('reports every problem at once', () => {
    const errors = errorsAfter((ci) => {
      ci.spec.image = 'BAD';
      ci.spec.flavor = '';
    });
    assert.equal(errors.length, 2, JSON.stringify(errors));
  });

  it('rejects a non-object without throwing', () => {
    assert.deepEqual(validateContainerInstance(null).errors, [
      'expected a ContainerInstance object, received null',
    ]);
  });

  it('assertion names the object', () => {
    const instance = fullContainerInstance();
    instance.spec.flavor = '';
    assert.throws(
      () => assertContainerInstance(instance, 'team-a/web'),
      /ContainerInstance team-a\/web is invalid: spec\.flavor: must NOT have fewer than 1 characters/,
    );
  });
});
