import type Docker from 'dockerode';

import type { RegistryCredential } from './credentials.js';
import { errorMessage, ImagePublishError, type ImagePublishReason } from './errors.js';
import { DockerProgressError, readProgressStream, type DockerProgressEvent } from './progress.js';
import { canonicalName, formatImageReference, type ImageReference } from './reference.js';

/** Options of {@link pullImage}. */
export interface PullOptions {
  /** Credential the registry accepted while resolving; undefined pulls anonymously. */
  credential?: RegistryCredential | undefined;
  /** Called with the bytes downloaded so far across all layers. */
  onDownloadedBytes?: (bytes: number) => void;
}

/**
 * Pulls `registry/repository@digest` through the Docker Engine and returns
 * the local image ID. Pulling by digest (not by tag) makes the content the
 * one the registry resolved, even if the tag moves meanwhile. Throws an
 * {@link ImagePublishError}: `unauthorized`, `notFound`, `invalidReference`
 * or `pullFailed`, with the Engine's message.
 */
export async function pullImage(
  docker: Docker,
  ref: ImageReference,
  digest: string,
  options: PullOptions = {},
): Promise<string> {
  const name = canonicalName(ref);
  const pinned = `${name}@${digest}`;
  const authconfig = options.credential
    ? {
        username: options.credential.username,
        password: options.credential.password,
        serveraddress: ref.registry,
      }
    : undefined;

  try {
    // The Engine pulls every tag when "tag" is empty, so the digest always goes there.
    const stream = (await docker.createImage(authconfig, {
      fromImage: name,
      tag: digest,
    })) as NodeJS.ReadableStream & AsyncIterable<Buffer>;
    await readProgressStream(stream, downloadCounter(options.onDownloadedBytes));
  } catch (err) {
    throw pullError(ref, err);
  }

  try {
    const image = await docker.getImage(pinned).inspect();
    return image.Id;
  } catch (err) {
    throw new ImagePublishError(
      'pullFailed',
      `Docker Engine reported a finished pull of ${pinned} but cannot inspect it: ${errorMessage(err)}; retry later`,
      { reference: formatImageReference(ref), registry: ref.registry, cause: err },
    );
  }
}

/** Returns an event handler that sums `Downloading` progress over layers. */
function downloadCounter(
  onBytes: ((bytes: number) => void) | undefined,
): ((event: DockerProgressEvent) => void) | undefined {
  if (onBytes === undefined) return undefined;
  const layers = new Map<string, number>();
  return (event) => {
    if (event.id === undefined) return;
    if (event.status === 'Downloading' && typeof event.progressDetail?.current === 'number') {
      layers.set(event.id, event.progressDetail.current);
    } else if (event.status === 'Download complete' || event.status === 'Already exists') {
      if (!layers.has(event.id)) layers.set(event.id, 0);
    } else {
      return;
    }
    let total = 0;
    for (const bytes of layers.values()) total += bytes;
    onBytes(total);
  };
}

/**
 * Classifies a message from the Docker Engine's pull: an error line of the
 * progress stream or the body of an HTTP error before the stream started.
 * Returns `unauthorized`, `notFound`, `invalidReference` or `pullFailed`.
 */
export function classifyPullMessage(message: string): ImagePublishReason {
  if (
    /unauthorized|authentication required|no basic auth credentials|access denied|denied:|incorrect username or password|\b401\b/i.test(
      message,
    )
  ) {
    return 'unauthorized';
  }
  if (/manifest unknown|not found|does not exist|name unknown/i.test(message)) return 'notFound';
  if (/invalid reference format/i.test(message)) return 'invalidReference';
  return 'pullFailed';
}

function pullError(ref: ImageReference, err: unknown): ImagePublishError {
  const statusCode = (err as { statusCode?: unknown }).statusCode;
  const engineMessage =
    err instanceof DockerProgressError
      ? err.message
      : ((err as { json?: { message?: string } }).json?.message ?? errorMessage(err));
  let reason = classifyPullMessage(engineMessage);
  if (reason === 'pullFailed' && statusCode === 404) reason = 'notFound';

  const advice =
    reason === 'unauthorized'
      ? `check the image pull secret for ${ref.registry}`
      : reason === 'notFound'
        ? 'check the repository name and the tag or digest'
        : reason === 'invalidReference'
          ? 'fix the image reference'
          : 'retry later';
  const subject =
    reason === 'unauthorized'
      ? `registry ${ref.registry} refused the pull of`
      : 'Docker Engine failed to pull';
  return new ImagePublishError(
    reason,
    `${subject} ${formatImageReference(ref)}: ${engineMessage.trim()}; ${advice}`,
    {
      reference: formatImageReference(ref),
      registry: ref.registry,
      statusCode: typeof statusCode === 'number' ? statusCode : undefined,
      cause: err,
    },
  );
}
