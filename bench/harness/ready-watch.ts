/**
 * Follows the ContainerInstances of one namespace through a watch and
 * records, with the benchmark's own clock, when each one first shows the
 * condition Ready=True for its current generation.
 */
import { GROUP, PLURAL, VERSION } from '../../src/api/constants.js';
import type { ContainerInstance } from '../../src/api/types.js';
import type { KubeClient } from './kube-client.js';

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: ContainerInstance & { code?: number; message?: string };
}

interface ListBody {
  metadata: { resourceVersion: string };
  items: ContainerInstance[];
}

/** Server-side watch duration asked for; kube-apiserver ends a watch after at most this long. */
const WATCH_TIMEOUT_SECONDS = 3600;

/**
 * Records the first time each instance is Ready. Start it before applying,
 * so no transition is missed; it relists and rewatches when the apiserver
 * ends the watch or returns 410 Gone.
 */
export class ReadyWatch {
  /** Milliseconds since the epoch at which each instance (by name) was first seen Ready. */
  readonly readyAt = new Map<string, number>();
  /** Number of watch events received, BOOKMARKs excluded. */
  events = 0;
  private readonly basePath: string;
  private readonly abort = new AbortController();
  private resourceVersion = '';
  private running: Promise<void> | undefined;
  private waiters: { count: number; resolve: () => void }[] = [];
  private failure: Error | undefined;

  constructor(
    private readonly client: KubeClient,
    namespace: string,
  ) {
    this.basePath = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;
  }

  /** Lists once and starts watching from that list; resolves when the watch is open. */
  async start(): Promise<void> {
    await this.relist();
    this.running = this.loop();
  }

  /**
   * Resolves once `count` instances have been Ready; rejects when the watch
   * fails for good or `timeoutMs` passes, saying how many were Ready.
   */
  async waitForReady(count: number, timeoutMs: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.readyAt.size >= count) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.waiters.push({ count, resolve });
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `only ${this.readyAt.size} of ${count} ContainerInstances were Ready after ${Math.round(timeoutMs / 1000)} s; see the operator log`,
              ),
            ),
          timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
    }
    if (this.failure) throw this.failure;
  }

  /** Stops watching. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async relist(): Promise<void> {
    const response = await this.client.request<ListBody>('GET', this.basePath, {
      tallyKey: `LIST ${PLURAL}`,
    });
    if (response.status !== 200) {
      throw new Error(
        `listing ${this.basePath} failed with ${response.status}: ${String(response.body)}`,
      );
    }
    for (const item of response.body.items) this.observe(item);
    this.resourceVersion = response.body.metadata.resourceVersion;
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const gone = await this.watchOnce();
        if (gone) await this.relist();
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.failure = new Error(`watching ${this.basePath} failed: ${(err as Error).message}`, {
          cause: err,
        });
        for (const waiter of this.waiters.splice(0)) waiter.resolve();
        return;
      }
    }
  }

  /** Runs one watch request; returns true when the apiserver returned 410 Gone. */
  private async watchOnce(): Promise<boolean> {
    let gone = false;
    const query = new URLSearchParams({
      watch: '1',
      allowWatchBookmarks: 'true',
      resourceVersion: this.resourceVersion,
      timeoutSeconds: String(WATCH_TIMEOUT_SECONDS),
    });
    await this.client.stream(
      `${this.basePath}?${query}`,
      (line) => {
        const event = JSON.parse(line) as WatchEvent;
        if (event.type === 'ERROR') {
          if (event.object.code === 410) gone = true;
          else throw new Error(`watch error: ${event.object.message ?? line}`);
          return;
        }
        this.resourceVersion = event.object.metadata.resourceVersion ?? this.resourceVersion;
        if (event.type === 'BOOKMARK') return;
        this.events += 1;
        if (event.type !== 'DELETED') this.observe(event.object);
      },
      this.abort.signal,
      `WATCH ${PLURAL}`,
    );
    return gone;
  }

  private observe(instance: ContainerInstance): void {
    const name = instance.metadata.name!;
    if (this.readyAt.has(name) || !isReady(instance)) return;
    this.readyAt.set(name, Date.now());
    const size = this.readyAt.size;
    this.waiters = this.waiters.filter((waiter) => {
      if (size < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }
}

/** Returns whether Ready is True and written for the instance's current generation. */
export function isReady(instance: ContainerInstance): boolean {
  const ready = instance.status?.conditions?.find((condition) => condition.type === 'Ready');
  if (ready?.status !== 'True') return false;
  const generation = instance.metadata.generation;
  return ready.observedGeneration === undefined || ready.observedGeneration === generation;
}
