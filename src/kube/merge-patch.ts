import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/**
 * Request options that send a PATCH body as a JSON merge patch (RFC 7386).
 * The generated client in @kubernetes/client-node 2.x picks
 * application/json-patch+json for every patch call; this middleware
 * overrides the Content-Type after it is set.
 */
export const mergePatchOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Returns a JSON copy of value: undefined members are dropped, Dates become
 * strings. Status objects are compared and patched in this form.
 */
export function toJson(value: unknown): Json {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
}

/** Returns whether two JSON values are equal, ignoring object key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEqual(item, b[index]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keysA = Object.keys(a).filter((key) => a[key] !== undefined);
    const keysB = Object.keys(b).filter((key) => b[key] !== undefined);
    if (keysA.length !== keysB.length) return false;
    return keysA.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}

/**
 * Computes the JSON merge patch (RFC 7386) that turns original into
 * modified: members missing from modified become null (delete), changed
 * objects are diffed recursively, and arrays are replaced whole. Returns
 * undefined when nothing differs. Null members of modified mean "absent",
 * because a merge patch cannot set a member to null.
 */
export function createMergePatch(original: unknown, modified: unknown): Json | undefined {
  const from = toJson(original);
  const to = toJson(modified);
  if (jsonEqual(from, to)) return undefined;
  if (!isPlainObject(from) || !isPlainObject(to)) return to;

  const patch: Record<string, Json> = {};
  for (const key of Object.keys(from)) {
    if (!Object.hasOwn(to, key) || to[key] === null) {
      if (from[key] !== null) patch[key] = null;
    }
  }
  for (const [key, value] of Object.entries(to)) {
    if (value === null) continue;
    if (!Object.hasOwn(from, key)) {
      patch[key] = value;
      continue;
    }
    const nested = createMergePatch(from[key], value);
    if (nested !== undefined) patch[key] = nested;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}
