/**
 * Writes the ContainerInstance CustomResourceDefinition generated from
 * src/api/ to crds/. Run through `make generate`; a unit test fails when the
 * committed file differs from this output.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { CRD_FILE, renderCustomResourceDefinitionYaml } from '../src/api/crd-yaml.js';

// This file runs from dist/hack/, two levels below the repository root.
const root = fileURLToPath(new URL('../../', import.meta.url));
const target = path.join(root, CRD_FILE);

await mkdir(path.dirname(target), { recursive: true });
await writeFile(target, renderCustomResourceDefinitionYaml());
console.log(`wrote ${path.relative(process.cwd(), target) || target}`);
