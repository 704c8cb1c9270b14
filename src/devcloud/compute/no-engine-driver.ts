import { randomBytes } from 'node:crypto';

import type { ServerRecord } from '../model.js';
import type { ComputeDriver, ContainerState, SpawnRequest } from './driver.js';

/**
 * Simulates containers without a Docker Engine, so benchmarks can run
 * thousands of servers. States change at once; addresses come from the subnet's
 * pool; the console output is a fixed banner.
 */
export class NoEngineDriver implements ComputeDriver {
  readonly name = 'no-engine';
  readonly engineAddresses = false;
  private readonly states = new Map<string, ContainerState>();

  async init(): Promise<void> {}

  async spawn(request: SpawnRequest): Promise<{ containerId: string }> {
    this.states.set(request.server.id, 'running');
    return { containerId: randomBytes(32).toString('hex') };
  }

  async start(server: ServerRecord): Promise<void> {
    this.states.set(server.id, 'running');
  }

  async stop(server: ServerRecord): Promise<void> {
    this.states.set(server.id, 'stopped');
  }

  async pause(server: ServerRecord): Promise<void> {
    this.states.set(server.id, 'paused');
  }

  async unpause(server: ServerRecord): Promise<void> {
    this.states.set(server.id, 'running');
  }

  async reboot(server: ServerRecord): Promise<void> {
    this.states.set(server.id, 'running');
  }

  async destroy(server: ServerRecord): Promise<void> {
    this.states.delete(server.id);
  }

  async consoleOutput(server: ServerRecord, lines?: number): Promise<string> {
    const output = [
      `devcloud: server ${server.id} (${server.name}) runs without a container engine`,
    ];
    return (lines === undefined ? output : output.slice(-lines)).join('\n') + '\n';
  }

  async inspect(server: ServerRecord): Promise<{ state: ContainerState }> {
    // Without an engine nothing runs between restarts, so the recorded state is kept.
    const known = this.states.get(server.id);
    if (known) return { state: known };
    if (server.vmState === 'paused' || server.vmState === 'suspended') return { state: 'paused' };
    if (['stopped', 'shelved', 'shelved_offloaded'].includes(server.vmState))
      return { state: 'stopped' };
    return { state: 'running' };
  }

  watch(): void {}

  async close(): Promise<void> {}
}
