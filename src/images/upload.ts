import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import Docker from 'dockerode';

import { errorMessage, ImagePublishError } from './errors.js';
import { glanceErrorStatus, isGlanceQuotaError, type GlanceImages } from './glance.js';

/** Options of {@link streamImageToGlance}. */
export interface StreamImageOptions {
  /** Docker image name to save, e.g. `127.0.0.1:5000/team/app:1.0`; it becomes the archive's RepoTag. */
  imageName: string;
  /** ID of the queued Glance image that receives the data. */
  glanceID: string;
  /** The reference being published, for error messages. */
  reference: string;
  /** Called with the bytes sent to Glance so far. */
  onBytes?: (bytes: number) => void;
}

/**
 * Streams `docker save` of one image straight into a Glance image upload and
 * returns the number of bytes sent. Nothing touches the disk. The Glance
 * request reads data as fast as the network drains it, and pipe backpressure
 * pauses the Docker socket meanwhile, so memory stays at a few buffers.
 * Throws an {@link ImagePublishError} with reason `glanceFull` for quota or
 * space errors and `uploadFailed` otherwise; the caller deletes the image.
 */
export async function streamImageToGlance(
  docker: Docker,
  glance: GlanceImages,
  options: StreamImageOptions,
): Promise<number> {
  let archive: Readable;
  try {
    archive = (await withoutTimeout(docker).getImage(options.imageName).get()) as Readable;
  } catch (err) {
    throw new ImagePublishError(
      'uploadFailed',
      `docker save of ${options.imageName} failed before any data was sent: ${errorMessage(err)}; retry later`,
      { reference: options.reference, cause: err },
    );
  }

  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      options.onBytes?.(bytes);
      callback(null, chunk);
    },
  });

  // Both sides run at once. Whichever fails first destroys both streams, so a
  // failed upload never leaves the Docker socket open and a failed save never
  // lets Glance store a truncated archive.
  let archiveError: unknown;
  archive.once('error', (err) => {
    archiveError ??= err;
  });
  const abort = (err: unknown): void => {
    archive.destroy();
    counter.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  const saving = pipeline(archive, counter);
  const uploading = glance.uploadImage(options.glanceID, counter);
  saving.catch(abort);
  uploading.catch(abort);

  const [saved, uploaded] = await Promise.allSettled([saving, uploading]);
  if (archiveError !== undefined) throw uploadError(options, archiveError, true, bytes);
  if (uploaded.status === 'rejected') throw uploadError(options, uploaded.reason, false, bytes);
  if (saved.status === 'rejected') throw uploadError(options, saved.reason, true, bytes);
  return bytes;
}

function uploadError(
  options: StreamImageOptions,
  err: unknown,
  fromDocker: boolean,
  bytes: number,
): ImagePublishError {
  const statusCode = fromDocker ? undefined : glanceErrorStatus(err);
  const details = { reference: options.reference, statusCode, cause: err };
  if (!fromDocker && isGlanceQuotaError(err)) {
    return new ImagePublishError(
      'glanceFull',
      `Glance rejected the data of image ${options.glanceID} (${options.imageName}) for quota or space ` +
        `after ${bytes} bytes: ${errorMessage(err)}; free space in Glance or raise the project's image quota`,
      details,
    );
  }
  const side = fromDocker ? 'docker save' : 'the Glance upload';
  return new ImagePublishError(
    'uploadFailed',
    `publishing ${options.imageName} to Glance image ${options.glanceID} failed after ${bytes} bytes in ${side}: ` +
      `${errorMessage(err)}; retry later`,
    details,
  );
}

const streamingClients = new WeakMap<Docker, Docker>();

/**
 * Returns a client on the same Engine connection settings without the
 * request timeout. docker-modem applies its `timeout` as a socket idle
 * timeout, and `docker save` can stay silent for minutes while the Engine
 * exports layers, so a timeout there would cut large images.
 */
export function withoutTimeout(docker: Docker): Docker {
  const modem = docker.modem as { timeout?: number };
  if (!modem.timeout) return docker;

  let client = streamingClients.get(docker);
  if (client === undefined) {
    const copy = Object.assign(
      Object.create(Object.getPrototypeOf(modem) as object) as object,
      modem,
      { timeout: undefined },
    );
    client = new Docker({ modem: copy } as Docker.DockerOptions);
    streamingClients.set(docker, client);
  }
  return client;
}
