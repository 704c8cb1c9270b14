/**
 * What the Nova server of a ContainerInstance should look like: its name,
 * its tags, and the fingerprint of the spec fields that Nova fixes at create.
 */
import { createHash } from 'node:crypto';

import {
  INSTANCE_TAG_PREFIX,
  MANAGED_TAG,
  instanceTag,
  type ContainerInstance,
} from '../api/index.js';
import type { Server } from '../openstack/index.js';

/**
 * Prefix of the tag that records which placement the server was created
 * with. It starts with the reserved instance tag prefix, so users cannot set
 * it, and it can never equal `cinst-<uid>` because a UID is a UUID.
 */
export const PLACEMENT_TAG_PREFIX = `${INSTANCE_TAG_PREFIX}spec-`;

/** Nova's limit on the length of a server name. */
const SERVER_NAME_MAX_LENGTH = 255;

/**
 * Returns the fingerprint of the spec fields that Nova fixes when it creates
 * a server: flavor, networks, key pair and security groups. A change to any
 * of them replaces the server. Spec values are hashed as written, not as
 * resolved, so renaming a network in OpenStack or changing the operator's
 * default network never replaces running servers.
 */
export function placementFingerprint(instance: ContainerInstance): string {
  const { spec } = instance;
  const placement = {
    flavor: spec.flavor,
    networks: spec.networks ?? 'default',
    keyName: spec.keyName ?? null,
    securityGroups: [...(spec.securityGroups ?? [])].sort(),
  };
  return createHash('sha256').update(JSON.stringify(placement)).digest('hex').slice(0, 16);
}

/** Returns the placement tag for a fingerprint. */
export function placementTag(fingerprint: string): string {
  return `${PLACEMENT_TAG_PREFIX}${fingerprint}`;
}

/** Returns the placement fingerprint a server carries in its tags, or undefined when it has none. */
export function serverPlacement(server: Server): string | undefined {
  const tag = server.tags.find((candidate) => candidate.startsWith(PLACEMENT_TAG_PREFIX));
  return tag?.slice(PLACEMENT_TAG_PREFIX.length);
}

/**
 * Returns every tag the server of this instance carries: the managed marker,
 * the instance tag, the placement tag and the user's tags, in that order.
 * Throws when the instance has no UID yet.
 */
export function desiredTags(instance: ContainerInstance): string[] {
  const tags = [
    MANAGED_TAG,
    instanceTag(instance.metadata.uid ?? ''),
    placementTag(placementFingerprint(instance)),
  ];
  for (const tag of instance.spec.tags ?? []) {
    if (!tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/** Returns whether two tag lists hold the same tags, in any order. */
export function sameTags(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((tag) => right.has(tag));
}

/** Returns whether the server's metadata equals the desired metadata, key for key. */
export function sameMetadata(
  actual: Readonly<Record<string, string>>,
  desired: Readonly<Record<string, string>>,
): boolean {
  const actualKeys = Object.keys(actual);
  if (actualKeys.length !== Object.keys(desired).length) return false;
  return actualKeys.every((key) => Object.hasOwn(desired, key) && desired[key] === actual[key]);
}

/**
 * Returns the names of the metadata keys that differ between the server and
 * the desired metadata (added, removed or changed), sorted. Events and logs
 * name these keys and never their values, which may come from Secrets.
 */
export function changedMetadataKeys(
  actual: Readonly<Record<string, string>>,
  desired: Readonly<Record<string, string>>,
): string[] {
  const keys = new Set([...Object.keys(actual), ...Object.keys(desired)]);
  return [...keys].filter((key) => actual[key] !== desired[key]).sort();
}

/** Returns the Nova server name: `<namespace>-<name>`, cut to Nova's 255 characters. */
export function serverName(instance: ContainerInstance): string {
  const name = `${instance.metadata.namespace ?? ''}-${instance.metadata.name ?? ''}`;
  return name.slice(0, SERVER_NAME_MAX_LENGTH);
}
