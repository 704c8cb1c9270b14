import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

import { CRD_NAME } from '../../src/api/constants.js';
import { CRD_FILE, renderCustomResourceDefinitionYaml } from '../../src/api/crd-yaml.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('generated CRD file', () => {
  it('matches make generate output', async () => {
    const committed = await readFile(path.join(root, CRD_FILE), 'utf8');
    assert.ok(
      committed === renderCustomResourceDefinitionYaml(),
      `${CRD_FILE} differs from what src/api/ generates; run make generate and commit the result`,
    );
  });

  it('parses as the named CRD', async () => {
    const crd = parse(await readFile(path.join(root, CRD_FILE), 'utf8')) as {
      kind: string;
      metadata: { name: string };
    };
    assert.equal(crd.kind, 'CustomResourceDefinition');
    assert.equal(crd.metadata.name, CRD_NAME);
  });
});
