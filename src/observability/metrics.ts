import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcome label of one reconcile, as counted by novadocker_reconcile_total. */
export type ReconcileResultLabel = 'success' | 'requeue_after' | 'error' | 'terminal_error';

/** Callbacks a work queue reports to; OperatorMetrics.workQueue() returns one per queue name. */
export interface WorkQueueMetrics {
  /** Number of keys waiting to run. */
  setDepth(depth: number): void;
  /** One add() call, deduplicated or not. */
  countAdd(): void;
  /** One key scheduled again after a failure. */
  countRetry(): void;
  /** Time a key waited between being added and starting to run, in seconds. */
  observeWait(seconds: number): void;
  /** Time one run of a key took, in seconds. */
  observeWork(seconds: number): void;
}

/** A WorkQueueMetrics that records nothing, for queues built without a registry. */
export const noWorkQueueMetrics: WorkQueueMetrics = {
  setDepth: () => undefined,
  countAdd: () => undefined,
  countRetry: () => undefined,
  observeWait: () => undefined,
  observeWork: () => undefined,
};

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const waitBuckets = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900];

/**
 * Every Prometheus metric the operator exports, on its own registry so tests
 * can build several side by side. Queue and leader election metrics use the
 * names client-go and controller-runtime use (workqueue_*,
 * leader_election_master_status), so existing dashboards work; the rest are
 * prefixed novadocker_.
 */
export class OperatorMetrics {
  readonly registry: Registry;

  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileDuration: Histogram<'controller' | 'result'>;
  readonly queueDepth: Gauge<'name'>;
  readonly queueAdds: Counter<'name'>;
  readonly queueRetries: Counter<'name'>;
  readonly queueWait: Histogram<'name'>;
  readonly queueWork: Histogram<'name'>;
  readonly openstackRequests: Counter<'service' | 'method' | 'code'>;
  readonly openstackRequestDuration: Histogram<'service' | 'method' | 'code'>;
  readonly imageBytesUploaded: Counter;
  readonly instances: Gauge<'phase'>;
  readonly leader: Gauge<'name'>;
  readonly watchRestarts: Counter<'informer' | 'reason'>;
  readonly eventsDropped: Counter<'reason'>;

  private instancePhases: (() => Map<string, number>) | undefined;

  /** Creates the metrics on a new registry, with Node.js process metrics unless processMetrics is false. */
  constructor(options: { processMetrics?: boolean } = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.reconcileTotal = new Counter({
      name: 'novadocker_reconcile_total',
      help: 'Reconciles run, by controller and result (success, requeue_after, error, terminal_error).',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'novadocker_reconcile_duration_seconds',
      help: 'Time one reconcile took, in seconds, by controller and result.',
      labelNames: ['controller', 'result'],
      buckets: latencyBuckets,
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'workqueue_depth',
      help: 'Keys waiting in the work queue to run.',
      labelNames: ['name'],
      registers,
    });
    this.queueAdds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Keys added to the work queue, including keys already waiting.',
      labelNames: ['name'],
      registers,
    });
    this.queueRetries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Keys scheduled again after a failed run, with backoff.',
      labelNames: ['name'],
      registers,
    });
    this.queueWait = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'Time a key waited in the work queue before it ran, in seconds.',
      labelNames: ['name'],
      buckets: waitBuckets,
      registers,
    });
    this.queueWork = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'Time one run of a key took, in seconds.',
      labelNames: ['name'],
      buckets: latencyBuckets,
      registers,
    });
    this.openstackRequests = new Counter({
      name: 'novadocker_openstack_requests_total',
      help: 'OpenStack API requests, by service, HTTP method and status code ("error" when no response arrived).',
      labelNames: ['service', 'method', 'code'],
      registers,
    });
    this.openstackRequestDuration = new Histogram({
      name: 'novadocker_openstack_request_duration_seconds',
      help: 'OpenStack API request latency in seconds, by service, HTTP method and status code.',
      labelNames: ['service', 'method', 'code'],
      buckets: latencyBuckets,
      registers,
    });
    this.imageBytesUploaded = new Counter({
      name: 'novadocker_image_upload_bytes_total',
      help: 'Bytes of image data uploaded to Glance.',
      registers,
    });
    const collectPhases = (gauge: Gauge<'phase'>): void => {
      if (!this.instancePhases) return;
      gauge.reset();
      for (const [phase, count] of this.instancePhases()) gauge.set({ phase }, count);
    };
    this.instances = new Gauge({
      name: 'novadocker_instances',
      help: 'ContainerInstances in the informer cache, by status.phase.',
      labelNames: ['phase'],
      registers,
      collect() {
        collectPhases(this);
      },
    });
    this.leader = new Gauge({
      name: 'leader_election_master_status',
      help: '1 while this replica is the holder of the leader election Lease, else 0.',
      labelNames: ['name'],
      registers,
    });
    this.watchRestarts = new Counter({
      name: 'novadocker_watch_restarts_total',
      help: 'Informer restarts, by informer and reason: error (list or watch failed), silent (no data for too long), relist (the watch expired with 410 Gone, or a restart needed a new list).',
      labelNames: ['informer', 'reason'],
      registers,
    });
    this.eventsDropped = new Counter({
      name: 'novadocker_events_dropped_total',
      help: 'Kubernetes Events not written, by reason (rate_limited, write_failed).',
      labelNames: ['reason'],
      registers,
    });
  }

  /** Returns the WorkQueueMetrics for the queue of this name. */
  workQueue(name: string): WorkQueueMetrics {
    return {
      setDepth: (depth) => this.queueDepth.set({ name }, depth),
      countAdd: () => this.queueAdds.inc({ name }),
      countRetry: () => this.queueRetries.inc({ name }),
      observeWait: (seconds) => this.queueWait.observe({ name }, seconds),
      observeWork: (seconds) => this.queueWork.observe({ name }, seconds),
    };
  }

  /** Records one finished reconcile of this controller. */
  observeReconcile(controller: string, result: ReconcileResultLabel, seconds: number): void {
    this.reconcileTotal.inc({ controller, result });
    this.reconcileDuration.observe({ controller, result }, seconds);
  }

  /** Sets the leadership gauge of the Lease with this name. */
  setLeader(name: string, leading: boolean): void {
    this.leader.set({ name }, leading ? 1 : 0);
  }

  /** Adds uploaded image bytes; negative or non-finite values are ignored. */
  countImageBytesUploaded(bytes: number): void {
    if (Number.isFinite(bytes) && bytes > 0) this.imageBytesUploaded.inc(bytes);
  }

  /**
   * Sets the function that counts instances by phase; it runs on every
   * scrape, so the gauge always matches the informer cache.
   */
  setInstancePhaseSource(source: () => Map<string, number>): void {
    this.instancePhases = source;
  }
}
