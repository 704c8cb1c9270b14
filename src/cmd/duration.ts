const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `15s`, `500ms`, `2m` or `1m30s` into
 * milliseconds, the way Go's time.ParseDuration reads the units ms, s, m and
 * h. Throws naming the value when it has no unit or an unknown one.
 */
export function parseDuration(value: string): number {
  const text = value.trim();
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    total += Number(match[1]) * unitMs[match[2]!]!;
    consumed += match[0].length;
  }
  if (text === '' || consumed !== text.length) {
    throw new Error(
      `invalid duration "${value}": use a number with a unit (ms, s, m, h), e.g. 15s, 500ms or 1m30s`,
    );
  }
  return Math.round(total);
}

/** Formats milliseconds as the shortest duration string parseDuration reads back, e.g. 15000 -> "15s". */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
