import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseAllDocuments } from 'yaml';

import { isTransitionRule, ruleMirror } from '../../src/api/cel.js';
import { instanceTag, KIND } from '../../src/api/constants.js';
import { containerInstanceSchema, printerColumns } from '../../src/api/crd.js';
import type { JSONSchemaProps, ValidationRule } from '../../src/api/openapi.js';
import { specSchema } from '../../src/api/spec-schema.js';
import { validateContainerInstance } from '../../src/api/validate.js';
import { fullContainerInstance } from '../support/containerinstance-samples.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface SchemaNode {
  path: string;
  schema: JSONSchemaProps;
}

/** Lists every node below the root with a dotted path; array items add `[]`. */
function walk(schema: JSONSchemaProps, prefix = ''): SchemaNode[] {
  const nodes: SchemaNode[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const childPath = prefix ? `${prefix}.${name}` : name;
    nodes.push({ path: childPath, schema: child }, ...walk(child, childPath));
    if (child.items) nodes.push(...walk(child.items, `${childPath}[]`));
  }
  return nodes;
}

/** Returns whether some value reached through the dotted path (with `[]` for any element) is present. */
function hasPath(value: unknown, segments: string[]): boolean {
  if (segments.length === 0) return value !== undefined;
  const [head, ...rest] = segments as [string, ...string[]];
  const isArray = head.endsWith('[]');
  const key = isArray ? head.slice(0, -2) : head;
  if (typeof value !== 'object' || value === null) return false;
  const child = (value as Record<string, unknown>)[key];
  if (!isArray) return hasPath(child, rest);
  return Array.isArray(child) && child.some((item) => hasPath(item, rest));
}

function collectRules(schema: JSONSchemaProps): ValidationRule[] {
  return [
    ...(schema['x-kubernetes-validations'] ?? []),
    ...Object.values(schema.properties ?? {}).flatMap(collectRules),
    ...(schema.items ? collectRules(schema.items) : []),
  ];
}

async function sampleDocuments(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path.join(root, 'manifests/samples', file), 'utf8');
  return parseAllDocuments(text).map((document) => document.toJS() as Record<string, unknown>);
}

describe('ContainerInstance schema', () => {
  const nodes = walk(containerInstanceSchema);

  it('has a typed sample for every property', () => {
    const sample = fullContainerInstance();
    const missing = nodes
      .filter(
        (node) => !node.path.startsWith('metadata') && !['apiVersion', 'kind'].includes(node.path),
      )
      .filter((node) => !hasPath(sample, node.path.split('.')))
      .map((node) => node.path);
    assert.deepEqual(missing, [], 'schema properties absent from fullContainerInstance()');
  });

  it('describes every property', () => {
    const undescribed = nodes
      .filter((node) => node.path !== 'metadata' && !node.schema.description)
      .map((node) => node.path);
    assert.deepEqual(undescribed, []);
  });

  it('mirrors every non-transition CEL rule', () => {
    const unmirrored = collectRules(containerInstanceSchema)
      .filter((rule) => !isTransitionRule(rule.rule) && !ruleMirror(rule.rule))
      .map((rule) => rule.rule);
    assert.deepEqual(unmirrored, []);
  });

  it('says immutable in transition rule messages', () => {
    const transitions = collectRules(containerInstanceSchema).filter((rule) =>
      isTransitionRule(rule.rule),
    );
    assert.equal(transitions.length, 4);
    for (const rule of transitions) {
      assert.match(
        rule.message ?? '',
        /immutable once set|cannot be added or removed after creation/,
        rule.rule,
      );
    }
  });

  it('accepts the typed full sample', () => {
    assert.deepEqual(validateContainerInstance(fullContainerInstance()).errors, []);
  });

  it('prints wide-only columns last', () => {
    const names = printerColumns.map((column) => `${column.name}${column.priority ? '*' : ''}`);
    assert.deepEqual(names, [
      'Phase',
      'Image',
      'Server',
      'Address',
      'Ready',
      'Age',
      'Flavor*',
      'Message*',
    ]);
  });
});

describe('ContainerInstance samples', () => {
  it('full sample sets every spec field', async () => {
    const [instance] = (await sampleDocuments('full.yaml')).filter(
      (document) => document.kind === KIND,
    );
    const missing = walk(specSchema)
      .filter((node) => !hasPath(instance?.spec, node.path.split('.')))
      .map((node) => `spec.${node.path}`);
    assert.deepEqual(missing, []);
  });

  for (const file of ['minimal.yaml', 'full.yaml', 'private-registry.yaml']) {
    it(`${file} passes the validator`, async () => {
      const instances = (await sampleDocuments(file)).filter((document) => document.kind === KIND);
      assert.equal(instances.length, 1, `${file} should hold one ContainerInstance`);
      assert.deepEqual(validateContainerInstance(instances[0]).errors, []);
    });
  }

  it('pull secret sample has the dockerconfigjson type', async () => {
    const secrets = (await sampleDocuments('private-registry.yaml')).filter(
      (document) => document.kind === 'Secret',
    );
    assert.equal(secrets[0]?.type, 'kubernetes.io/dockerconfigjson');
    const data = (secrets[0]?.stringData as Record<string, string>)['.dockerconfigjson'] ?? '';
    assert.ok(JSON.parse(data).auths, '.dockerconfigjson has no auths');
  });
});

describe('ownership tags', () => {
  it('derives the instance tag from the uid', () => {
    assert.equal(instanceTag('0f6a1c2e-5b7d'), 'cinst-0f6a1c2e-5b7d');
  });

  it('rejects an empty uid', () => {
    assert.throws(() => instanceTag(''), /empty metadata.uid/);
  });

  it('fits the Nova tag length limit', () => {
    assert.ok(instanceTag('0f6a1c2e-5b7d-4e3f-9a8b-1c2d3e4f5a6b').length <= 60);
  });
});
