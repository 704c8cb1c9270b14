import type { API_VERSION, KIND } from './constants.js';

/**
 * TypeScript view of a ContainerInstance. The OpenAPI schema in
 * spec-schema.ts and status-schema.ts is the contract the apiserver enforces.
 * A unit test walks that schema and fails when a property has no counterpart
 * in a typed sample of these interfaces.
 */

/** Power state the user requests for the container. */
export type PowerState = 'Running' | 'Stopped' | 'Paused';

/** All values of {@link PowerState}, in schema order. */
export const POWER_STATES: readonly PowerState[] = ['Running', 'Stopped', 'Paused'];

/** Action on the Nova server when the ContainerInstance is deleted. */
export type DeletionPolicy = 'Delete' | 'Orphan';

/** All values of {@link DeletionPolicy}, in schema order. */
export const DELETION_POLICIES: readonly DeletionPolicy[] = ['Delete', 'Orphan'];

/** Reference to one key of a Secret in the instance's namespace. */
export interface SecretKeySelector {
  /** Secret name. */
  name: string;
  /** Key inside the Secret's data. */
  key: string;
}

/** Source of an environment variable value read at reconcile time. */
export interface EnvVarSource {
  secretKeyRef: SecretKeySelector;
}

/**
 * One environment variable. Exactly one of `value` and `valueFrom` is set;
 * the apiserver rejects both or neither.
 */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

/** One network attachment: exactly one of `name`, `id` or `port` is set. */
export interface NetworkAttachment {
  /** Neutron network name. */
  name?: string;
  /** Neutron network UUID. */
  id?: string;
  /** UUID of an existing Neutron port. */
  port?: string;
}

/** Reference to a Secret in the instance's namespace. */
export interface LocalObjectReference {
  name: string;
}

/** Secret holding the `clouds.yaml` the operator authenticates with. */
export interface CloudReference {
  /** Secret in the instance's namespace with a `clouds.yaml` key and an optional `cacert` key. */
  secretName: string;
  /** Entry under `clouds:` in that clouds.yaml. */
  cloudName: string;
}

/** Desired state of a ContainerInstance. Optional fields left out take the defaults documented in the schema. */
export interface ContainerInstanceSpec {
  image: string;
  command?: string[];
  env?: EnvVar[];
  flavor: string;
  networks?: NetworkAttachment[];
  securityGroups?: string[];
  keyName?: string;
  availabilityZone?: string;
  /** @default 'Running' */
  powerState?: PowerState;
  imagePullSecrets?: LocalObjectReference[];
  cloud?: CloudReference;
  /** @default 'Delete' */
  deletionPolicy?: DeletionPolicy;
  tags?: string[];
}

/** Lifecycle phase shown in `kubectl get`; a summary for humans, conditions are the machine contract. */
export type Phase =
  | 'Pending'
  | 'PublishingImage'
  | 'Creating'
  | 'Running'
  | 'Stopped'
  | 'Paused'
  | 'Failed'
  | 'Deleting';

/** All values of {@link Phase}, in schema order. */
export const PHASES: readonly Phase[] = [
  'Pending',
  'PublishingImage',
  'Creating',
  'Running',
  'Stopped',
  'Paused',
  'Failed',
  'Deleting',
];

/**
 * Power state observed on the Nova server (`OS-EXT-STS:power_state`): Nova's
 * RUNNING, PAUSED, SHUTDOWN, SUSPENDED and CRASHED map to these names, and
 * NOSTATE or anything unrecognised to `Unknown`.
 */
export type ObservedPowerState =
  'Running' | 'Stopped' | 'Paused' | 'Suspended' | 'Crashed' | 'Unknown';

/** All values of {@link ObservedPowerState}, in schema order. */
export const OBSERVED_POWER_STATES: readonly ObservedPowerState[] = [
  'Running',
  'Stopped',
  'Paused',
  'Suspended',
  'Crashed',
  'Unknown',
];

/** The Glance image the server boots from. */
export interface PublishedImage {
  /** Glance image UUID. */
  glanceID?: string;
  /** Registry manifest digest of the published image, `sha256:<64 hex>`. */
  digest?: string;
}

/** One fixed or floating IP address of the server. */
export interface ServerAddress {
  /** Neutron network name, as Nova reports it in `addresses`. */
  network: string;
  ip: string;
  version: 4 | 6;
}

/** Copy of the Nova server fault while the server is in ERROR. */
export interface ServerFault {
  code?: number;
  message?: string;
  /** RFC 3339 time Nova recorded the fault. */
  time?: string;
}

/** Status value of a condition, as in metav1.ConditionStatus. */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** A condition in the standard Kubernetes shape (metav1.Condition). */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  /** RFC 3339 time the status last changed value. */
  lastTransitionTime: string;
  /** CamelCase reason for the last transition. */
  reason: string;
  message: string;
}

/** Observed state written by the operator through the status subresource. */
export interface ContainerInstanceStatus {
  observedGeneration?: number;
  phase?: Phase;
  serverID?: string;
  image?: PublishedImage;
  addresses?: ServerAddress[];
  powerState?: ObservedPowerState;
  fault?: ServerFault;
  conditions?: Condition[];
}

/** Object metadata fields the operator reads or writes; the apiserver owns the rest. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [field: string]: unknown;
}

/** A ContainerInstance object as the apiserver returns it. */
export interface ContainerInstance {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: ContainerInstanceSpec;
  status?: ContainerInstanceStatus;
}

/** A page of ContainerInstances from a list call. */
export interface ContainerInstanceList {
  apiVersion: typeof API_VERSION;
  kind: 'ContainerInstanceList';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: ContainerInstance[];
}
