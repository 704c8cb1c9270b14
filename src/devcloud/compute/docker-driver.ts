import { createReadStream } from 'node:fs';

import Docker from 'dockerode';

import type { Logger } from '../../observability/logger.js';
import type { ServerRecord } from '../model.js';
import { splitCommandLine } from './command-line.js';
import { overlappingRoutes } from './host-routes.js';
import {
  containerName,
  type ComputeDriver,
  type ContainerAddress,
  type ContainerEvent,
  type ContainerState,
  type SpawnRequest,
} from './driver.js';

/** Settings of the Docker driver, taken from the dev cloud configuration. */
export interface DockerDriverOptions {
  socketPath: string;
  /** Label value and network name prefix that mark this dev cloud's containers and networks. */
  prefix: string;
  networkName: string;
  networkCidr: string;
  addressMode: 'auto' | 'docker' | 'fake';
  /** Seconds Docker waits after SIGTERM before SIGKILL on stop and reboot. */
  stopTimeoutSeconds: number;
  log: Logger;
}

const serverLabel = 'org.openstack.devcloud.server-id';
const cloudLabel = 'org.openstack.devcloud.cloud';

/**
 * Runs servers as Docker containers through dockerode, as the Nova-Docker driver
 * did: the Glance image data is loaded with docker load when the engine has no
 * image of that name, the container is named nova-<server id>, server metadata
 * becomes its environment, os_command_line its command, the flavor's memory_mb
 * its memory limit and vcpus x 1024 its CPU shares.
 */
export class DockerDriver implements ComputeDriver {
  readonly name = 'docker';
  engineAddresses = false;
  private readonly docker: Docker;
  private dockerNetwork: string | null = null;
  private events: NodeJS.ReadableStream | null = null;
  private closed = false;

  constructor(private readonly options: DockerDriverOptions) {
    this.docker = new Docker({ socketPath: options.socketPath });
  }

  async init(): Promise<void> {
    const { socketPath, addressMode, log } = this.options;
    try {
      await this.docker.ping();
    } catch (err) {
      throw new Error(
        `cannot reach the Docker Engine at ${socketPath}: ${(err as Error).message}; ` +
          'start dockerd, pass --docker-socket, or run with --no-engine',
        { cause: err },
      );
    }
    if (addressMode === 'fake') return;

    try {
      this.dockerNetwork = await this.ensureNetwork();
      this.engineAddresses = true;
    } catch (err) {
      if (addressMode === 'docker') {
        throw new Error(
          `cannot create the Docker network for ${this.options.networkName}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      log.warn(
        { err },
        'Docker network unavailable; containers run without a network and addresses come from the subnet pool',
      );
    }
  }

  /** Creates (or reuses) an internal bridge network, so containers get addresses but no route off the host. */
  private async ensureNetwork(): Promise<string> {
    const name = `${this.options.prefix}-${this.options.networkName}`;
    try {
      await this.docker.getNetwork(name).inspect();
      return name;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }

    // An explicit subnet skips Docker's own overlap check, and the bridge would
    // take these addresses away from the host's other networks.
    const overlaps = await overlappingRoutes(this.options.networkCidr);
    if (overlaps.length > 0) {
      throw new Error(
        `network CIDR ${this.options.networkCidr} overlaps host routes (${overlaps.join('; ')}); choose another --network-cidr or use --address-mode fake`,
      );
    }
    await this.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Internal: true,
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: this.options.networkCidr }] },
      Labels: { [cloudLabel]: this.options.prefix },
    });
    this.options.log.info(
      { network: name, cidr: this.options.networkCidr },
      'created Docker network',
    );
    return name;
  }

  async spawn(request: SpawnRequest): Promise<{ containerId: string; address?: ContainerAddress }> {
    const { server, image, flavor } = request;
    const imageName = await this.ensureImage(request);
    const command = image.properties.os_command_line;
    const name = containerName(server.id);

    // A container left by a crash between create and the state write would block the name.
    await this.remove(name);
    const container = await this.docker.createContainer({
      name,
      Image: imageName,
      Hostname: server.hostname,
      Env: Object.entries(server.metadata).map(([key, value]) => `${key}=${value}`),
      ...(command ? { Cmd: splitCommandLine(command) } : {}),
      Labels: { [serverLabel]: server.id, [cloudLabel]: this.options.prefix },
      HostConfig: {
        Memory: flavor.ram * 1024 * 1024,
        CpuShares: flavor.vcpus * 1024,
        NetworkMode: this.dockerNetwork ?? 'none',
      },
    });
    try {
      await container.start();
    } catch (err) {
      throw new Error(
        `Cannot start container ${name} from image ${imageName}: ${dockerMessage(err)}`,
        { cause: err },
      );
    }
    const address = await this.address(name);
    return { containerId: container.id, ...(address ? { address } : {}) };
  }

  /** Returns the Docker image name for the Glance image, loading the Glance data when the engine lacks it. */
  private async ensureImage({ image, imageDataPath }: SpawnRequest): Promise<string> {
    const imageName = image.name ?? image.id;
    if (await this.hasImage(imageName)) return imageName;

    const loaded: string[] = [];
    try {
      const output = await this.docker.loadImage(createReadStream(imageDataPath));
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          output,
          (err: Error | null) => (err ? reject(err) : resolve()),
          (event: { stream?: string; error?: string }) => {
            if (event.error) reject(new Error(event.error));
            const match = /Loaded image(?: ID)?: (\S+)/.exec(event.stream ?? '');
            if (match) loaded.push(match[1]!);
          },
        );
      });
    } catch (err) {
      throw new Error(
        `Cannot load repository file of Glance image ${image.id} (${imageName}): ${dockerMessage(err)}`,
        { cause: err },
      );
    }
    if (await this.hasImage(imageName)) return imageName;
    throw new Error(
      `Glance image ${image.id} loaded as ${loaded.join(', ') || 'no named image'}, but Docker has no image ${imageName}; ` +
        'the Glance image name must equal the image name in the docker save archive',
    );
  }

  private async hasImage(name: string): Promise<boolean> {
    try {
      await this.docker.getImage(name).inspect();
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw err;
    }
  }

  private async address(name: string): Promise<ContainerAddress | undefined> {
    if (!this.dockerNetwork) return undefined;
    const info = await this.docker.getContainer(name).inspect();
    const network = info.NetworkSettings.Networks[this.dockerNetwork];
    if (!network?.IPAddress) return undefined;
    return { ipAddress: network.IPAddress, macAddress: network.MacAddress };
  }

  async start(server: ServerRecord): Promise<void> {
    await this.call(server, 'start', (container) => container.start());
  }

  async stop(server: ServerRecord): Promise<void> {
    await this.call(server, 'stop', (container) =>
      container.stop({ t: this.options.stopTimeoutSeconds }),
    );
  }

  async pause(server: ServerRecord): Promise<void> {
    await this.call(server, 'pause', (container) => container.pause());
  }

  async unpause(server: ServerRecord): Promise<void> {
    await this.call(server, 'unpause', (container) => container.unpause());
  }

  async reboot(server: ServerRecord, hard: boolean): Promise<void> {
    await this.call(server, 'restart', (container) =>
      container.restart({ t: hard ? 0 : this.options.stopTimeoutSeconds }),
    );
  }

  async destroy(server: ServerRecord): Promise<void> {
    await this.remove(containerName(server.id));
  }

  private async remove(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).remove({ force: true });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 409)
        throw new Error(`Cannot remove container ${name}: ${dockerMessage(err)}`, { cause: err });
    }
  }

  private async call(
    server: ServerRecord,
    action: string,
    run: (container: Docker.Container) => Promise<unknown>,
  ): Promise<void> {
    const name = containerName(server.id);
    try {
      await run(this.docker.getContainer(name));
    } catch (err) {
      // 304 means the container is already in the requested state.
      if ((err as { statusCode?: number }).statusCode === 304) return;
      throw new Error(`Cannot ${action} container ${name}: ${dockerMessage(err)}`, { cause: err });
    }
  }

  async consoleOutput(server: ServerRecord, lines?: number): Promise<string> {
    const name = containerName(server.id);
    let raw: Buffer;
    try {
      raw = (await this.docker.getContainer(name).logs({
        stdout: true,
        stderr: true,
        follow: false,
        ...(lines === undefined ? {} : { tail: lines }),
      })) as unknown as Buffer;
    } catch (err) {
      throw new Error(`Cannot read the log of container ${name}: ${dockerMessage(err)}`, {
        cause: err,
      });
    }
    return demultiplex(raw);
  }

  async inspect(
    server: ServerRecord,
  ): Promise<{ state: ContainerState; containerId?: string; address?: ContainerAddress }> {
    const name = containerName(server.id);
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(name).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return { state: 'missing' };
      throw err;
    }
    const state: ContainerState = info.State.Paused
      ? 'paused'
      : info.State.Running
        ? 'running'
        : 'stopped';
    const address = await this.address(name);
    return { state, containerId: info.Id, ...(address ? { address } : {}) };
  }

  watch(listener: (event: ContainerEvent) => void): void {
    void this.follow(listener);
  }

  /** Follows Docker events for this dev cloud's containers and reconnects when the stream ends. */
  private async follow(listener: (event: ContainerEvent) => void): Promise<void> {
    const states: Record<string, ContainerState> = {
      die: 'stopped',
      start: 'running',
      pause: 'paused',
      unpause: 'running',
      destroy: 'missing',
    };
    let failures = 0;
    while (!this.closed) {
      try {
        const stream = await this.docker.getEvents({
          filters: {
            type: ['container'],
            label: [`${cloudLabel}=${this.options.prefix}`],
            event: Object.keys(states),
          },
        });
        this.events = stream;
        if (failures > 0) this.options.log.info({ failures }, 'Docker event stream reconnected');
        failures = 0;
        let buffered = '';
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          buffered += chunk.toString('utf8');
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            const event = JSON.parse(line) as {
              Action?: string;
              Actor?: { Attributes?: Record<string, string> };
            };
            const serverId = event.Actor?.Attributes?.[serverLabel];
            const state = states[event.Action ?? ''];
            if (serverId && state) listener({ serverId, state });
          }
        }
      } catch (err) {
        if (this.closed) return;
        // While the engine is down this fails every second, so log the first failure and then once a minute.
        failures += 1;
        if (failures === 1 || failures % 60 === 0) {
          this.options.log.warn(
            { err, failures },
            'Docker event stream failed; reconnecting every 1 s',
          );
        }
      }
      if (!this.closed) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    (this.events as unknown as { destroy?: () => void } | null)?.destroy?.();
  }
}

/** Strips Docker's 8-byte stream headers from a non-TTY log. */
function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length && raw[offset]! <= 2 && raw[offset + 1] === 0) {
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  if (offset === 0) return raw.toString('utf8');
  return Buffer.concat(parts).toString('utf8');
}

/** Returns Docker's own error message when the engine sent one. */
function dockerMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } }).json;
  return json?.message ?? (err as Error).message ?? String(err);
}
