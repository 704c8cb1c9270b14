/**
 * The bridge from the reconcile's image step to the image publisher: one
 * publisher per cloud session, all pulling through one Docker Engine.
 */
import Docker from 'dockerode';
import { Registry } from 'prom-client';

import { ImagePublisher, glanceImages } from '../images/index.js';
import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import type { PublishImage } from './image-step.js';

/** Settings of {@link imagePublishing}. */
export interface ImagePublishingOptions {
  logger: Logger;
  metrics: OperatorMetrics;
  /** Docker Engine that pulls and saves images. @default the engine of DOCKER_HOST, else /var/run/docker.sock */
  docker?: Docker;
  /** Pulls plus uploads running at once per cloud. @default 2 */
  maxConcurrentUploads?: number;
  /** Time a managed Glance image may stay unused before garbage collection deletes it. @default 24 h */
  gcGracePeriodMs?: number;
}

/** The image publishers of every cloud this operator has published to. */
export interface ImagePublishing {
  publish: PublishImage;
  /**
   * Runs one garbage-collection pass on every cloud with a publisher, keeping
   * the images of the given digests. A failure on one cloud is logged and
   * does not stop the others.
   */
  collectGarbage(digestsInUse: ReadonlySet<string>): Promise<void>;
}

/** Publishers kept at most; the least recently used beyond this is dropped. */
const MAX_PUBLISHERS = 32;

/**
 * Returns the image publishing of the operator: one {@link ImagePublisher}
 * per cloud session, so a rotated credential gets a new one. Every publisher
 * counts uploaded bytes in the operator's novadocker_image_upload_bytes_total.
 */
export function imagePublishing(options: ImagePublishingOptions): ImagePublishing {
  const docker = options.docker ?? new Docker();
  const publishers = new Map<string, ImagePublisher>();
  let metricsRegistered = false;

  const publisherFor = (key: string, create: () => ImagePublisher): ImagePublisher => {
    let publisher = publishers.get(key);
    if (publisher !== undefined) {
      publishers.delete(key);
    } else {
      publisher = create();
    }
    publishers.set(key, publisher);
    for (const oldest of publishers.keys()) {
      if (publishers.size <= MAX_PUBLISHERS) break;
      publishers.delete(oldest);
    }
    return publisher;
  };

  const publish: PublishImage = async (cloud, request, onProgress) => {
    const key = `${cloud.scope}\u0000${cloud.client.session.configHash}`;
    const publisher = publisherFor(key, () => {
      // NOTE: only the first publisher registers its metrics on the operator
      // registry, because a second set of the same names would collide. The
      // publishers of other clouds or rotated credentials count on private
      // registries that /metrics does not serve. Uploaded bytes reach the
      // operator's counter from every publisher.
      const registry = metricsRegistered ? new Registry() : options.metrics.registry;
      metricsRegistered = true;
      return new ImagePublisher({
        docker,
        glance: glanceImages(cloud.client),
        logger: options.logger.child({
          component: 'image-publisher',
          cloud: cloud.client.cloudName,
        }),
        metrics: {
          registry,
          countImageBytesUploaded: (bytes) => options.metrics.countImageBytesUploaded(bytes),
        },
        ...(options.maxConcurrentUploads === undefined
          ? {}
          : { maxConcurrentUploads: options.maxConcurrentUploads }),
        ...(options.gcGracePeriodMs === undefined
          ? {}
          : { gcGracePeriodMs: options.gcGracePeriodMs }),
      });
    });

    const image = await publisher.publish({
      reference: request.reference,
      ...(request.command === undefined ? {} : { command: request.command }),
      pullSecrets: request.pullSecrets,
      onProgress,
    });
    return { glanceID: image.glanceID, digest: image.digest };
  };

  // NOTE: a pass covers only the clouds this process has published to since
  // it started, so a cloud whose instances were all deleted before a restart
  // keeps its images until an instance publishes there again.
  const collectGarbage = async (digestsInUse: ReadonlySet<string>): Promise<void> => {
    for (const publisher of publishers.values()) {
      try {
        await publisher.collectGarbage({ digestsInUse });
      } catch (err) {
        options.logger.warn({ err }, 'image garbage collection failed; retrying at the next pass');
      }
    }
  };

  return { publish, collectGarbage };
}
