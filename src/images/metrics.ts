import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of the image publisher. They register on the registry
 * passed in (the operator's `/metrics` registry), or on a private one, so
 * several publishers in one process never collide. Uploaded bytes are counted
 * by the operator's own `novadocker_image_upload_bytes_total`.
 */
export class ImagePublisherMetrics {
  readonly registry: Registry;
  readonly publishes: Counter<'result' | 'reason'>;
  readonly pulls: Counter;
  readonly uploads: Counter;
  readonly uploadsInProgress: Gauge;
  readonly publishDuration: Histogram<'result'>;
  readonly garbageCollected: Counter;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.publishes = new Counter({
      name: 'novadocker_image_publishes_total',
      help: 'Image publish requests that finished, by result (published, reused, failed) and failure reason',
      labelNames: ['result', 'reason'],
      registers,
    });
    this.pulls = new Counter({
      name: 'novadocker_image_pulls_total',
      help: 'Image pulls started through the Docker Engine',
      registers,
    });
    this.uploads = new Counter({
      name: 'novadocker_image_uploads_total',
      help: 'Glance image uploads started',
      registers,
    });
    this.uploadsInProgress = new Gauge({
      name: 'novadocker_image_uploads_in_progress',
      help: 'Pulls and uploads running now; bounded by the concurrent upload limit',
      registers,
    });
    this.publishDuration = new Histogram({
      name: 'novadocker_image_publish_duration_seconds',
      help: 'Time from the start of a publish to its end, by result',
      labelNames: ['result'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers,
    });
    this.garbageCollected = new Counter({
      name: 'novadocker_image_garbage_collected_total',
      help: 'Managed Glance images deleted by garbage collection',
      registers,
    });
  }

  /** Returns the current value of a counter without labels, or the sum over its labels. */
  async counterValue(
    counter: Counter<string>,
    labels: Record<string, string> = {},
  ): Promise<number> {
    const { values } = await counter.get();
    return values
      .filter((sample) =>
        Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
      )
      .reduce((sum, sample) => sum + sample.value, 0);
  }
}
