import { setTimeout as sleep } from 'node:timers/promises';

import type { Logger } from '../../observability/logger.js';
import type { FaultInjector } from '../faults.js';
import type { FlavorRecord, ImageRecord, PortRecord, ServerRecord } from '../model.js';
import type { NetworkService } from '../neutron.js';
import type { StateStore } from '../state.js';
import {
  containerName,
  type ComputeDriver,
  type ContainerEvent,
  type ContainerState,
} from './driver.js';
import {
  expectedContainerState,
  resumedTasks,
  serverStateForContainer,
  taskForAction,
  type ServerAction,
} from './server-actions.js';

export type { ServerAction } from './server-actions.js';

export interface ComputeManagerDeps {
  store: StateStore;
  driver: ComputeDriver;
  networks: NetworkService;
  faults: FaultInjector;
  flavor(id: string): FlavorRecord | undefined;
  image(id: string): ImageRecord | undefined;
  buildDelayMs: number;
  log: Logger;
}

function isDeleting(server: ServerRecord): boolean {
  return server.taskState === 'deleting';
}

/** Records times as ISO 8601 with milliseconds; the views trim them to Nova's formats. */
function now(): string {
  return new Date().toISOString();
}

/**
 * Moves servers through their lifecycle on the compute driver: BUILD to ACTIVE
 * or ERROR, power actions, rebuild and delete. The API sets the task state at
 * once and returns. The work runs in the background, one operation at a time per
 * server, as nova-compute does.
 */
export class ComputeManager {
  private readonly queues = new Map<string, Promise<void>>();
  /** Aborted on close, so a long BUILD delay does not hold up a shutdown; the build resumes after a restart. */
  private readonly closing = new AbortController();

  constructor(private readonly deps: ComputeManagerDeps) {}

  /** Connects the driver, matches recorded servers with their containers and starts watching engine events. */
  async init(): Promise<void> {
    await this.deps.driver.init();
    await this.resync();
    this.deps.driver.watch((event) =>
      this.enqueue(event.serverId, () => this.onEngineEvent(event)),
    );
  }

  /** Starts building a server that the API just recorded in BUILD. */
  build(server: ServerRecord): void {
    this.enqueue(server.id, () => this.spawn(server));
  }

  /** Sets the action's task state now and performs the action in the background. */
  act(server: ServerRecord, action: ServerAction): void {
    this.update(server, {
      taskState:
        action.kind === 'reboot' && action.hard ? 'rebooting_hard' : taskForAction[action.kind],
    });
    this.enqueue(server.id, () => this.perform(server, action));
  }

  /** Sets task_state deleting now; the container and ports are removed in the background. */
  delete(server: ServerRecord): void {
    this.update(server, { taskState: 'deleting' });
    this.enqueue(server.id, () => this.destroy(server));
  }

  /** Returns the container's log; the last `lines` lines when given. */
  async consoleOutput(server: ServerRecord, lines?: number): Promise<string> {
    return this.deps.driver.consoleOutput(server, lines);
  }

  /** Resolves when every queued operation has finished. */
  async settle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()]);
  }

  /** Cuts BUILD delays short, waits for running operations and closes the driver. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.settle();
    await this.deps.driver.close();
  }

  private enqueue(serverId: string, work: () => Promise<void>): void {
    const previous = this.queues.get(serverId) ?? Promise.resolve();
    const next = previous
      .then(work)
      .catch((err: unknown) =>
        this.deps.log.error({ err, serverID: serverId }, 'compute operation failed unexpectedly'),
      )
      .finally(() => {
        if (this.queues.get(serverId) === next) this.queues.delete(serverId);
      });
    this.queues.set(serverId, next);
  }

  private update(server: ServerRecord, changes: Partial<ServerRecord>): void {
    Object.assign(server, changes, { updatedAt: now() });
    this.deps.store.markDirty();
  }

  private fail(server: ServerRecord, message: string, code = 500): void {
    const created = now();
    this.update(server, {
      vmState: 'error',
      taskState: server.taskState === 'deleting' ? 'deleting' : null,
      powerState: 0,
      fault: { code, message, created },
    });
    this.deps.log.warn({ serverID: server.id, fault: message }, 'server went to ERROR');
  }

  private async spawn(server: ServerRecord): Promise<void> {
    const { deps } = this;
    if (deps.buildDelayMs > 0) {
      try {
        await sleep(deps.buildDelayMs, undefined, { signal: this.closing.signal });
      } catch {
        // Shutting down: the server stays in BUILD and the next start resumes the build.
        return;
      }
    }
    if (server.deletedAt || server.taskState === 'deleting') return;

    const flavor = deps.flavor(server.flavorId);
    const image = deps.image(server.imageId);
    if (!flavor || deps.faults.flavorFails(flavor.name)) {
      // Nova's scheduler message when no host fits; the trailing space is Nova's.
      this.fail(server, 'No valid host was found. ');
      return;
    }
    if (!image || image.status !== 'active') {
      this.fail(server, `Image ${server.imageId} could not be found or is not active.`);
      return;
    }
    if (deps.faults.imageFails(image.name)) {
      this.fail(
        server,
        `Build of instance ${server.id} aborted: image ${image.name} is set to fail (--fail-image).`,
      );
      return;
    }

    const ports = this.ports(server);
    try {
      const { containerId, address } = await deps.driver.spawn({
        server,
        image,
        flavor,
        imageDataPath: deps.store.imagePath(image.id),
        ports,
      });
      this.assignAddresses(ports, address);
      this.update(server, {
        containerId,
        vmState: 'active',
        powerState: 1,
        // A delete accepted while the container started keeps its task state; the delete runs next.
        taskState: isDeleting(server) ? 'deleting' : null,
        launchedAt: server.launchedAt ?? now(),
        fault: null,
      });
      deps.log.info(
        { serverID: server.id, container: containerName(server.id), driver: deps.driver.name },
        'server ACTIVE',
      );
    } catch (err) {
      this.fail(server, (err as Error).message);
    }
  }

  private ports(server: ServerRecord): PortRecord[] {
    return server.networks
      .map((attachment) => this.deps.networks.port(attachment.portId))
      .filter((port) => port !== undefined);
  }

  private assignAddresses(
    ports: PortRecord[],
    address?: { ipAddress: string; macAddress: string },
  ): void {
    for (const [index, port] of ports.entries()) {
      if (index === 0 && address)
        this.deps.networks.setAddress(port, address.ipAddress, address.macAddress);
      else this.deps.networks.allocateFakeAddress(port);
    }
  }

  private async perform(server: ServerRecord, action: ServerAction): Promise<void> {
    const { driver, log } = this.deps;
    if (server.deletedAt || server.taskState === 'deleting') return;
    try {
      switch (action.kind) {
        case 'start':
          await driver.start(server);
          await this.refreshAddress(server);
          this.update(server, { vmState: 'active', powerState: 1, taskState: null });
          break;
        case 'stop':
          await driver.stop(server);
          this.update(server, { vmState: 'stopped', powerState: 4, taskState: null });
          break;
        case 'pause':
          await driver.pause(server);
          this.update(server, { vmState: 'paused', powerState: 3, taskState: null });
          break;
        case 'unpause':
          await driver.unpause(server);
          this.update(server, { vmState: 'active', powerState: 1, taskState: null });
          break;
        case 'suspend':
          await this.suspend(server);
          break;
        case 'resume':
          if ((await driver.inspect(server)).state === 'paused') await driver.unpause(server);
          this.update(server, { vmState: 'active', powerState: 1, taskState: null });
          break;
        case 'shelve':
        case 'shelveOffload':
          await this.shelve(server);
          break;
        case 'unshelve':
          await this.unshelve(server);
          return;
        case 'reboot':
          await driver.reboot(server, action.hard);
          await this.refreshAddress(server);
          this.update(server, { vmState: 'active', powerState: 1, taskState: null });
          break;
        case 'rebuild':
          await driver.destroy(server);
          this.update(server, { containerId: null });
          await this.spawn(server);
          return;
      }
      log.info(
        { serverID: server.id, action: action.kind, vmState: server.vmState },
        'server action done',
      );
    } catch (err) {
      // Nova keeps the vm_state when a power action fails and records an instance fault.
      this.update(server, {
        taskState: null,
        fault: { code: 500, message: (err as Error).message, created: now() },
      });
      log.warn({ err, serverID: server.id, action: action.kind }, 'server action failed');
    }
  }

  /**
   * Freezes the container with the cgroup freezer, as pause does, but records
   * vm_state suspended with power_state 7 (SUSPENDED). Nova stores whatever
   * power state its driver reports after a suspend: libvirt's managed save
   * reports SHUTDOWN (4) and Nova's fake driver keeps RUNNING (1). A frozen
   * container keeps its memory like a guest in S3, which libvirt reports as
   * SUSPENDED, so the dev cloud reports 7.
   */
  private async suspend(server: ServerRecord): Promise<void> {
    if ((await this.deps.driver.inspect(server)).state !== 'paused')
      await this.deps.driver.pause(server);
    this.update(server, { vmState: 'suspended', powerState: 7, taskState: null });
  }

  /**
   * Stops the container and offloads the server at once, as Nova does with
   * its default `shelved_offload_time` of 0: vm_state shelved with task
   * shelving_offloading, then shelved_offloaded with power_state 4. A paused
   * or suspended container is unpaused first, because Docker cannot stop a
   * frozen container cleanly. The stopped container stays, so an unshelve
   * starts it again with its files.
   * NOTE: Nova also snapshots the server into a Glance image named
   * `<name>-shelved` (deleted again by unshelve); the dev cloud makes none.
   */
  private async shelve(server: ServerRecord): Promise<void> {
    const { driver } = this.deps;
    const { state } = await driver.inspect(server);
    if (state === 'paused') await driver.unpause(server);
    if (state !== 'stopped' && state !== 'missing') await driver.stop(server);
    if (server.vmState !== 'shelved') {
      this.update(server, {
        vmState: 'shelved',
        powerState: 4,
        taskState: 'shelving_offloading',
      });
    }
    this.update(server, { vmState: 'shelved_offloaded', powerState: 4, taskState: null });
  }

  /**
   * Starts the shelved server's container again under task spawning, as
   * Nova's unshelve spawns the instance. A container that is gone, such as
   * one removed while the server was offloaded, is created anew from the
   * server's image.
   */
  private async unshelve(server: ServerRecord): Promise<void> {
    const { driver, log } = this.deps;
    this.update(server, { taskState: 'spawning' });
    const { state } = await driver.inspect(server);
    if (state === 'missing') {
      this.update(server, { containerId: null });
      await this.spawn(server);
      return;
    }
    if (state === 'paused') await driver.unpause(server);
    if (state !== 'running') await driver.start(server);
    await this.refreshAddress(server);
    this.update(server, { vmState: 'active', powerState: 1, taskState: null });
    log.info({ serverID: server.id, action: 'unshelve' }, 'server action done');
  }

  private async refreshAddress(server: ServerRecord): Promise<void> {
    if (!this.deps.driver.engineAddresses) return;
    const { address } = await this.deps.driver.inspect(server);
    const [port] = this.ports(server);
    if (address && port) this.deps.networks.setAddress(port, address.ipAddress, address.macAddress);
  }

  private async destroy(server: ServerRecord): Promise<void> {
    try {
      await this.deps.driver.destroy(server);
    } catch (err) {
      this.update(server, { taskState: null });
      this.fail(server, (err as Error).message);
      return;
    }
    this.deps.networks.deletePorts(server.id);
    this.update(server, {
      vmState: 'deleted',
      powerState: 0,
      taskState: null,
      deletedAt: now(),
      containerId: null,
    });
    this.deps.log.info({ serverID: server.id }, 'server deleted');
  }

  /**
   * Applies a change the engine reported but the dev cloud did not ask for, such
   * as a container exiting. Events of the dev cloud's own actions arrive after
   * those actions finished, so the container is inspected again and only its
   * current state counts.
   */
  private async onEngineEvent(event: ContainerEvent): Promise<void> {
    const server = this.deps.store.data.servers[event.serverId];
    if (!server || server.deletedAt || server.taskState !== null || server.vmState === 'building')
      return;
    let state: ContainerState;
    try {
      ({ state } = await this.deps.driver.inspect(server));
    } catch (err) {
      this.deps.log.warn(
        { err, serverID: server.id },
        'cannot inspect a container after an engine event',
      );
      return;
    }
    this.applyContainerState(server, state, 'the container changed outside the dev cloud');
  }

  private applyContainerState(server: ServerRecord, state: ContainerState, reason: string): void {
    if (state === 'missing') {
      // An offloaded server has no instance on the host in Nova either.
      if (server.vmState !== 'error' && server.vmState !== 'shelved_offloaded') {
        this.fail(
          server,
          `Container ${containerName(server.id)} was not found on the container engine; delete the server or rebuild it.`,
        );
      }
      return;
    }
    if (expectedContainerState[server.vmState] === state) return;
    this.deps.log.info(
      {
        serverID: server.id,
        from: server.vmState,
        to: serverStateForContainer[state].vmState,
        reason,
      },
      'server state synced from container',
    );
    this.update(server, serverStateForContainer[state]);
  }

  /** Matches recorded servers with their containers after a restart and resumes interrupted operations. */
  private async resync(): Promise<void> {
    let matched = 0;
    for (const server of Object.values(this.deps.store.data.servers)) {
      if (server.deletedAt) continue;
      if (server.taskState === 'deleting') {
        this.enqueue(server.id, () => this.destroy(server));
        continue;
      }
      if (server.vmState === 'building') {
        this.update(server, { taskState: 'spawning' });
        this.build(server);
        continue;
      }
      const resumed = server.taskState === null ? undefined : resumedTasks[server.taskState];
      if (resumed !== undefined) {
        this.deps.log.info(
          { serverID: server.id, taskState: server.taskState, action: resumed },
          'resuming a server action cut short by a restart',
        );
        this.enqueue(server.id, () => this.perform(server, { kind: resumed }));
        continue;
      }
      try {
        const { state, containerId } = await this.deps.driver.inspect(server);
        if (server.taskState !== null) this.update(server, { taskState: null });
        if (containerId) server.containerId = containerId;
        this.applyContainerState(server, state, 'matched after a restart');
        if (state !== 'missing') matched += 1;
      } catch (err) {
        this.deps.log.warn(
          { err, serverID: server.id },
          'cannot inspect the container of a recorded server; its state is left as recorded',
        );
      }
    }
    this.deps.log.info(
      { matched, driver: this.deps.driver.name },
      'matched recorded servers with their containers',
    );
  }
}
