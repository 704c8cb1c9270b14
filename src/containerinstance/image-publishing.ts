/**
 * The bridge from the reconcile's image step to the image publisher: one
 * publisher per cloud session, all pulling through one Docker Engine.
 */
import Docker from 'dockerode';

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
}

/** Publishers kept at most; the least recently used beyond this is dropped. */
const MAX_PUBLISHERS = 32;

/**
 * Returns a {@link PublishImage} that keeps one {@link ImagePublisher} per
 * cloud session, so a rotated credential gets a new one. Uploaded bytes are
 * added to the operator's image upload counter once per new Glance image.
 */
export function imagePublishing(options: ImagePublishingOptions): PublishImage {
  const docker = options.docker ?? new Docker();
  const publishers = new Map<string, ImagePublisher>();
  const counted = new Set<string>();
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

  return async (cloud, request, onProgress) => {
    const key = `${cloud.scope}\u0000${cloud.client.session.configHash}`;
    const publisher = publisherFor(key, () => {
      // NOTE: the publisher's metrics register on the operator registry for
      // the first publisher only, because a second set of the same names
      // would collide; the publishers of other clouds or rotated credentials
      // count on private registries that /metrics does not serve.
      const exported = !metricsRegistered;
      metricsRegistered = true;
      return new ImagePublisher({
        docker,
        glance: glanceImages(cloud.client),
        logger: options.logger.child({
          component: 'image-publisher',
          cloud: cloud.client.cloudName,
        }),
        ...(exported ? { metricsRegistry: options.metrics.registry } : {}),
        ...(options.maxConcurrentUploads === undefined
          ? {}
          : { maxConcurrentUploads: options.maxConcurrentUploads }),
      });
    });

    let bytesUploaded = 0;
    const image = await publisher.publish({
      reference: request.reference,
      ...(request.command === undefined ? {} : { command: request.command }),
      pullSecrets: request.pullSecrets,
      onProgress: (progress) => {
        bytesUploaded = Math.max(bytesUploaded, progress.bytesUploaded);
        onProgress(progress);
      },
    });
    // Instances that join one publish all get the same new image; count it once.
    if (!image.reused && !counted.has(image.glanceID)) {
      counted.add(image.glanceID);
      options.metrics.countImageBytesUploaded(bytesUploaded);
    }
    return { glanceID: image.glanceID, digest: image.digest };
  };
}
