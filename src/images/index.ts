/**
 * The image publisher: registry images into Glance for Nova-Docker. Callers
 * use {@link ImagePublisher}; the other exports are its parts and types.
 */
export { ImagePublisher } from './publisher.js';
export type {
  ImagePublisherOptions,
  PublishRequest,
  PublishProgress,
  PublishedImage,
} from './publisher.js';
export { ImagePublishError, isImagePublishError } from './errors.js';
export type { ImagePublishReason } from './errors.js';
export { parseImageReference, formatImageReference, loadedImageName } from './reference.js';
export type { ImageReference } from './reference.js';
export type { PullSecret, RegistryCredential } from './credentials.js';
export type { GlanceImages } from './glance.js';
export { glanceImages, imageProperty } from './glance.js';
export type { GarbageCollectionOptions, GarbageCollectionResult } from './gc.js';
export { defaultGracePeriodMs } from './gc.js';
