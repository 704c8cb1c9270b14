/**
 * Records the dev cloud stores. Field names follow the OpenStack resource they
 * back; the API modules turn them into each service's JSON views.
 */

/** Nova vm_state values the dev cloud uses. */
export type VmState =
  | 'building'
  | 'active'
  | 'stopped'
  | 'paused'
  | 'suspended'
  | 'shelved'
  | 'shelved_offloaded'
  | 'error'
  | 'deleted';

/** Nova task_state values the dev cloud uses; null when no task runs. */
export type TaskState =
  | 'spawning'
  | 'powering-off'
  | 'powering-on'
  | 'pausing'
  | 'unpausing'
  | 'rebooting'
  | 'rebooting_hard'
  | 'rebuilding'
  | 'suspending'
  | 'resuming'
  | 'shelving'
  | 'shelving_offloading'
  | 'unshelving'
  | 'deleting'
  | null;

/** Nova power_state codes: 0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN, 7 SUSPENDED. */
export type PowerState = 0 | 1 | 3 | 4 | 7;

/** An instance fault as Nova shows it on a server in ERROR. */
export interface ServerFault {
  code: number;
  message: string;
  /** ISO 8601 time the fault was recorded. */
  created: string;
  details?: string;
}

/** A server's attachment to one Neutron network through a port. */
export interface ServerNetwork {
  networkId: string;
  portId: string;
}

export interface ServerRecord {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  imageId: string;
  flavorId: string;
  vmState: VmState;
  taskState: TaskState;
  powerState: PowerState;
  metadata: Record<string, string>;
  tags: string[];
  networks: ServerNetwork[];
  securityGroups: string[];
  description: string | null;
  keyName: string | null;
  accessIPv4: string;
  accessIPv6: string;
  availabilityZone: string;
  /** Hostname inside the container and in OS-EXT-SRV-ATTR:hostname. */
  hostname: string;
  createdAt: string;
  updatedAt: string;
  launchedAt: string | null;
  deletedAt: string | null;
  fault: ServerFault | null;
  /** Docker container ID, once the driver created one. */
  containerId: string | null;
}

/** Glance image status values. */
export type ImageStatus = 'queued' | 'saving' | 'active' | 'killed' | 'deleted' | 'deactivated';

export interface ImageRecord {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: 'public' | 'private' | 'shared' | 'community';
  protected: boolean;
  osHidden: boolean;
  owner: string;
  containerFormat: string | null;
  diskFormat: string | null;
  minDisk: number;
  minRam: number;
  size: number | null;
  checksum: string | null;
  osHashAlgo: string | null;
  osHashValue: string | null;
  tags: string[];
  /** Custom properties, such as os_command_line; Glance shows them as top-level keys. */
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface PortRecord {
  id: string;
  networkId: string;
  subnetId: string;
  projectId: string;
  /** Server ID, or an empty string for an unbound port. */
  deviceId: string;
  deviceOwner: string;
  macAddress: string;
  /** Fixed IPv4 address; null until the compute driver reports one. */
  ipAddress: string | null;
  status: 'ACTIVE' | 'DOWN' | 'BUILD';
  createdAt: string;
  updatedAt: string;
}

export interface FlavorRecord {
  id: string;
  name: string;
  /** Memory in MiB; the container's memory limit. */
  ram: number;
  vcpus: number;
  /** Root disk in GiB; reported only, containers get no disk limit. */
  disk: number;
  ephemeral: number;
  swap: number;
  description: string | null;
}

export interface NetworkRecord {
  id: string;
  name: string;
  projectId: string;
  subnetId: string;
  shared: boolean;
  mtu: number;
  createdAt: string;
}

export interface SubnetRecord {
  id: string;
  name: string;
  networkId: string;
  projectId: string;
  cidr: string;
  gatewayIp: string;
  allocationStart: string;
  allocationEnd: string;
}

export interface SecurityGroupRecord {
  id: string;
  name: string;
  description: string;
  projectId: string;
}

export interface ProjectRecord {
  id: string;
  name: string;
  domainId: string;
}

export interface UserRecord {
  id: string;
  name: string;
  domainId: string;
  password: string;
  defaultProjectId: string;
  /** Role names on the default project, such as member or admin. */
  roles: string[];
}

export interface ApplicationCredentialRecord {
  id: string;
  name: string;
  userId: string;
  projectId: string;
  secret: string;
}
