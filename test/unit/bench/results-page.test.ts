import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { table, writeSection } from '../../../bench/results-page.js';

describe('results page', () => {
  let dir: string;
  let page: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ndo-results-'));
    page = path.join(dir, 'BENCHMARKS.md');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces only its own section', async () => {
    await writeFile(
      page,
      'intro\n<!-- BEGIN a -->\nold a\n<!-- END a -->\nmiddle\n<!-- BEGIN b -->\nold b\n<!-- END b -->\nend\n',
    );
    await writeSection('a', 'new a', page);
    assert.equal(
      await readFile(page, 'utf8'),
      'intro\n<!-- BEGIN a -->\nnew a\n<!-- END a -->\nmiddle\n<!-- BEGIN b -->\nold b\n<!-- END b -->\nend\n',
    );
  });

  it('rejects a page without the section', async () => {
    await writeFile(page, 'no markers\n');
    await assert.rejects(writeSection('a', 'x', page), /has no section "a"/);
  });

  it('leaves a page without the section unchanged', async () => {
    await writeFile(page, 'no markers\n');
    await writeSection('a', 'x', page).catch(() => undefined);
    assert.equal(await readFile(page, 'utf8'), 'no markers\n');
  });

  it('renders a table with a separator row', () => {
    assert.equal(table(['a', 'b'], [[1, 'x']]), '| a | b |\n| --- | --- |\n| 1 | x |');
  });
});
