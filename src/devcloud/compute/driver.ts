import type { FlavorRecord, ImageRecord, PortRecord, ServerRecord } from '../model.js';

/** Inputs a driver needs to start a server's container. */
export interface SpawnRequest {
  server: ServerRecord;
  image: ImageRecord;
  flavor: FlavorRecord;
  /** Path of the Glance image data (a docker save archive) in the image store. */
  imageDataPath: string;
  ports: PortRecord[];
}

/** The address the engine gave a server's container on its network. */
export interface ContainerAddress {
  ipAddress: string;
  macAddress: string;
}

/** A container's state as the engine reports it. */
export type ContainerState = 'running' | 'paused' | 'stopped' | 'missing';

/** A change the engine reported without the dev cloud asking for it, such as a container exiting. */
export interface ContainerEvent {
  serverId: string;
  state: ContainerState;
}

/**
 * A compute driver: runs each server as one container, the way the Nova-Docker
 * driver did. Methods reject with an Error whose message becomes the server's
 * fault message; the compute manager records it.
 */
export interface ComputeDriver {
  /** Short name for logs: docker or no-engine. */
  readonly name: string;
  /** Whether ports get addresses from the engine (true) or from the subnet's pool (false). */
  readonly engineAddresses: boolean;
  /** Connects to the engine and prepares networks; rejects with a message saying what to fix. */
  init(): Promise<void>;
  /** Creates and starts the container; resolves with its ID and, when the engine assigns one, its address. */
  spawn(request: SpawnRequest): Promise<{ containerId: string; address?: ContainerAddress }>;
  start(server: ServerRecord): Promise<void>;
  stop(server: ServerRecord): Promise<void>;
  pause(server: ServerRecord): Promise<void>;
  unpause(server: ServerRecord): Promise<void>;
  reboot(server: ServerRecord, hard: boolean): Promise<void>;
  /** Removes the container; resolves when it is gone, also when it never existed. */
  destroy(server: ServerRecord): Promise<void>;
  /** Returns the container's log, the last `lines` lines when given. */
  consoleOutput(server: ServerRecord, lines?: number): Promise<string>;
  /** Returns the container's state and address, used to match servers after a restart. */
  inspect(
    server: ServerRecord,
  ): Promise<{ state: ContainerState; containerId?: string; address?: ContainerAddress }>;
  /** Calls listener for changes the engine reports on the dev cloud's containers. */
  watch(listener: (event: ContainerEvent) => void): void;
  /** Stops watching and closes connections. */
  close(): Promise<void>;
}

/** Returns the container name for a server, as Nova-Docker named them. */
export function containerName(serverId: string): string {
  return `nova-${serverId}`;
}
