/**
 * The benchmark results page, bench/BENCHMARKS.md. Each benchmark script
 * owns one generated section between `<!-- BEGIN name -->` and
 * `<!-- END name -->` and replaces only that section, so scripts can run
 * separately and the text written by hand around the sections stays.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of bench/BENCHMARKS.md in the source tree (this file runs from dist/bench/). */
export const resultsPagePath = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../bench/BENCHMARKS.md',
);

/**
 * Replaces the generated section `name` of the page with `markdown`.
 * Throws when the page lacks the section's markers, saying which to add.
 */
export async function writeSection(
  name: string,
  markdown: string,
  page = resultsPagePath,
): Promise<void> {
  const text = await readFile(page, 'utf8');
  const begin = `<!-- BEGIN ${name} -->`;
  const end = `<!-- END ${name} -->`;
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  if (start < 0 || stop < start) {
    throw new Error(
      `${page} has no section "${name}"; add the lines "${begin}" and "${end}" where its figures belong`,
    );
  }
  const updated = `${text.slice(0, start + begin.length)}\n${markdown.trim()}\n${text.slice(stop)}`;
  await writeFile(page, updated);
}

/** Formats a row of a Markdown table. */
export function tableRow(cells: readonly (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Formats a Markdown table with a header row. */
export function table(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  return [
    tableRow(header),
    tableRow(header.map(() => '---')),
    ...rows.map((row) => tableRow(row)),
  ].join('\n');
}
