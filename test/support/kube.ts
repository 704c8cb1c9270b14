/** Small helpers for tests that talk to the real kube-apiserver. */
import { PassThrough } from 'node:stream';

import type { Counter } from 'prom-client';

import { createLogger, type Logger } from '../../src/observability/logger.js';

/** Creates a logger whose JSON lines are kept in memory, so a test can inspect them. */
export function captureLogger(level = 'debug'): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
} {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const logger = createLogger({ level }, stream);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Returns the value of a prom-client counter for these labels (0 when never incremented). */
export async function counterValue<L extends string>(
  counter: Counter<L>,
  labels: Partial<Record<L, string>>,
): Promise<number> {
  const { values } = await counter.get();
  const match = values.find((value) =>
    Object.entries(labels).every(([key, expected]) => value.labels[key as L] === expected),
  );
  return match?.value ?? 0;
}

/** Returns the port of an https://host:port URL. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}
