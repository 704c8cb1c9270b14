import { ImagePublishError } from './errors.js';

/**
 * A parsed, normalized image reference: `registry/repository[:tag][@digest]`.
 * Parsing follows the grammar of github.com/distribution/reference, the
 * package the Docker CLI and the kubelet use, so a string means the same
 * image here as in `docker pull`.
 */
export interface ImageReference {
  /** Registry host with optional port; Docker Hub is `docker.io`. */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `library/nginx`. */
  readonly repository: string;
  /** Tag; `latest` when the input named neither a tag nor a digest. */
  readonly tag: string | undefined;
  /** Content digest such as `sha256:<64 hex>`, when the input pinned one. */
  readonly digest: string | undefined;
}

/** Registry name that Docker uses for Docker Hub in canonical references. */
export const dockerHubRegistry = 'docker.io';

/** Host that serves the Registry HTTP API v2 for Docker Hub. */
export const dockerHubApiHost = 'registry-1.docker.io';

/** The legacy Docker Hub name that Docker normalizes to `docker.io`. */
const legacyDockerHubRegistry = 'index.docker.io';

const maxNameLength = 255;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainPattern = new RegExp(
  `^(?:${domainComponent}(?:\\.${domainComponent})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`,
);
const pathComponentPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const hexLengthByAlgorithm: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const imageIDPattern = /^[a-f0-9]{64}$/;

/**
 * Parses and normalizes an image reference the way `docker pull` does:
 * `nginx` becomes `docker.io/library/nginx:latest`, `user/app` gets
 * `docker.io/`, and a reference with a digest keeps its tag (if any) but is
 * resolved by digest. Throws an {@link ImagePublishError} with reason
 * `invalidReference` that names the input and the rule it broke.
 */
export function parseImageReference(input: string): ImageReference {
  const fail = (problem: string): never => {
    throw new ImagePublishError(
      'invalidReference',
      `invalid image reference ${JSON.stringify(input)}: ${problem}; ` +
        'use the form [registry[:port]/]repository[:tag][@sha256:<64 hex digits>]',
      { reference: input },
    );
  };

  if (input.length === 0) fail('it is empty');
  if (input.trim() !== input) fail('it has leading or trailing whitespace');

  let remainder = input;
  let digest: string | undefined;
  const at = remainder.indexOf('@');
  if (at >= 0) {
    digest = remainder.slice(at + 1);
    remainder = remainder.slice(0, at);
    validateDigest(digest, fail);
  }

  // A colon after the last slash starts the tag; a colon before it is a port.
  let tag: string | undefined;
  const lastColon = remainder.lastIndexOf(':');
  if (lastColon > remainder.lastIndexOf('/')) {
    tag = remainder.slice(lastColon + 1);
    remainder = remainder.slice(0, lastColon);
    if (!tagPattern.test(tag)) {
      fail(`tag ${JSON.stringify(tag)} must be 1-128 of [A-Za-z0-9_.-] and not start with . or -`);
    }
  }

  const { registry, repository } = splitRegistry(remainder, fail);
  if (`${registry}/${repository}`.length > maxNameLength) {
    fail(`the repository name is longer than ${maxNameLength} characters`);
  }

  return { registry, repository, tag: tag ?? (digest ? undefined : 'latest'), digest };
}

function validateDigest(digest: string, fail: (problem: string) => never): void {
  if (!digestPattern.test(digest)) fail(`digest ${JSON.stringify(digest)} is malformed`);

  const [algorithm, hex] = digest.split(':') as [string, string];
  const expectedLength = hexLengthByAlgorithm[algorithm];
  if (expectedLength === undefined) {
    fail(`digest algorithm ${JSON.stringify(algorithm)} is not supported (use sha256)`);
  }
  if (hex.length !== expectedLength || hex !== hex.toLowerCase()) {
    fail(`a ${algorithm} digest needs ${expectedLength} lowercase hex digits`);
  }
}

function splitRegistry(
  name: string,
  fail: (problem: string) => never,
): { registry: string; repository: string } {
  if (name.length === 0) fail('the repository name is empty');

  // The first component is a registry only if it looks like a host: it has a
  // dot or a port, is "localhost", or has uppercase letters (which a
  // repository path cannot have). Otherwise the name is on Docker Hub.
  let registry = dockerHubRegistry;
  let path = name;
  const slash = name.indexOf('/');
  if (slash >= 0) {
    const first = name.slice(0, slash);
    const looksLikeHost =
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase();
    if (looksLikeHost) {
      if (!domainPattern.test(first)) fail(`registry host ${JSON.stringify(first)} is invalid`);
      registry = first === legacyDockerHubRegistry ? dockerHubRegistry : first;
      path = name.slice(slash + 1);
    }
  }

  if (imageIDPattern.test(path)) {
    fail('a 64-digit hex string is an image ID, not a repository name');
  }
  const components = path.split('/');
  for (const component of components) {
    if (component !== component.toLowerCase()) fail('the repository name must be lowercase');
    if (!pathComponentPattern.test(component)) {
      fail(
        `path component ${JSON.stringify(component)} must be lowercase letters and digits, ` +
          'separated by ".", "_", "__" or "-"',
      );
    }
  }
  if (registry === dockerHubRegistry && components.length === 1) path = `library/${path}`;

  return { registry, repository: path };
}

/** Returns the fully qualified name without tag or digest, e.g. `docker.io/library/nginx`. */
export function canonicalName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/**
 * Returns the short name Docker prints and writes into `docker save`
 * archives: Docker Hub loses `docker.io/` and official images lose `library/`.
 */
export function familiarName(ref: ImageReference): string {
  if (ref.registry !== dockerHubRegistry) return canonicalName(ref);
  return ref.repository.startsWith('library/') && ref.repository.split('/').length === 2
    ? ref.repository.slice('library/'.length)
    : ref.repository;
}

/** Formats the normalized reference, e.g. `docker.io/library/nginx:latest` or `reg:5000/a@sha256:...`. */
export function formatImageReference(ref: ImageReference): string {
  let text = canonicalName(ref);
  if (ref.tag !== undefined) text += `:${ref.tag}`;
  if (ref.digest !== undefined) text += `@${ref.digest}`;
  return text;
}

/** Returns the host that serves the Registry HTTP API for this reference. */
export function registryApiHost(ref: ImageReference): string {
  return ref.registry === dockerHubRegistry ? dockerHubApiHost : ref.registry;
}

/**
 * Returns the tag the publisher gives the pulled image before `docker save`:
 * the reference's own tag followed by `-sha256-<first 12 hex digits>`, or
 * only the digest part for a digest-only reference. Nova-Docker boots by image
 * name and skips the Glance download when the compute host already has an
 * image of that name, so a name without the digest would keep booting old
 * content after a tag moves to a new digest.
 */
export function localTag(ref: ImageReference, digest: string): string {
  const [algorithm, hex] = digest.split(':') as [string, string];
  const digestPart = `${algorithm}-${hex.slice(0, 12)}`;
  if (ref.tag === undefined) return digestPart;

  // Docker tags are at most 128 characters; keep the digest part whole.
  const maxTagLength = 128 - digestPart.length - 1;
  return `${ref.tag.slice(0, maxTagLength)}-${digestPart}`;
}

/**
 * Returns the image name `docker load` produces from the archive the
 * publisher uploads, which is also the Glance image name Nova-Docker boots by,
 * e.g. `nginx:1.27-sha256-0123456789ab` or
 * `127.0.0.1:5000/team/app:sha256-0123456789ab`.
 */
export function loadedImageName(ref: ImageReference, digest: string): string {
  return `${familiarName(ref)}:${localTag(ref, digest)}`;
}

/** Returns whether host (with optional port) names this machine's loopback interface. */
export function isLoopbackHost(host: string): boolean {
  const hostname = stripPort(host).toLowerCase();
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    hostname === '::1' ||
    /^127(?:\.\d{1,3}){3}$/.test(hostname)
  );
}

/** Returns host without its `:port` suffix; bracketed IPv6 literals keep their brackets. */
export function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end >= 0 ? host.slice(0, end + 1) : host;
  }
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}
