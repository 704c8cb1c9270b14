/**
 * Writes Markdown files into one generated section of bench/BENCHMARKS.md,
 * joined by blank lines, so `make bench` can combine the printed reports of
 * several benchmark runs (such as image streaming at two sizes) into one.
 *
 *   node dist/bench/write-section.js image-streaming run-100.md run-500.md
 */
import { readFile } from 'node:fs/promises';

import { writeSection } from './results-page.js';

const [name, ...files] = process.argv.slice(2);
if (!name || files.length === 0) {
  console.error('usage: write-section.js SECTION FILE...');
  process.exit(2);
}

const parts: string[] = [];
for (const file of files) {
  const text = (await readFile(file, 'utf8')).trim();
  if (text === '') {
    console.error(
      `write-section: ${file} is empty; the benchmark that writes it failed, so section "${name}" is left unchanged`,
    );
    process.exit(1);
  }
  parts.push(text);
}
await writeSection(name, parts.join('\n\n'));
