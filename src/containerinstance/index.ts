/**
 * The ContainerInstance controller: the reconciler, its collaborators and
 * the `run` wiring. `containerInstanceWiring()` is what the command line uses.
 */
export { ContainerInstanceReconciler } from './reconciler.js';
export type { ErroredServerPolicy, FinalizerSink, ReconcilerDeps } from './deps.js';
export { CloudResolver, type ResolvedCloud, type SecretCache, type SecretName } from './cloud.js';
export { PlacementResolver, type Placement } from './placement.js';
export { ServerObserver, type ServerList } from './server-observer.js';
export type { ServerSnapshot } from './server-snapshot.js';
export { ImageTracker, type PublishedImage, type PublishProgress } from './image-tracker.js';
export type { ImagePublishRequest, PublishImage } from './image-step.js';
export { ReconcileFailure, classifyError, type FailureKind } from './failures.js';
export {
  containerInstanceType,
  containerInstanceWiring,
  instancesUsingSecret,
  EXIT_AFTER_CREATE_ENV,
  type WiringOptions,
} from './wiring.js';
