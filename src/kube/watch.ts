import { Watch, type KubeConfig } from '@kubernetes/client-node';

/** Settings of InformerWatch. */
export interface InformerWatchOptions {
  /** Returns the server-side timeout of the next watch request, in seconds. */
  timeoutSeconds: () => number;
  /** A watch that delivers no line (event or bookmark) for this long is closed and resumed, in milliseconds. */
  silenceTimeoutMs: number;
  /** Called for every event line, including BOOKMARK, after the callback. */
  onEvent?: (phase: string) => void;
  /** Called when a watch was closed for silence, before the informer resumes it. */
  onSilent?: () => void;
  /** Changes each received object in place before the cache stores it. */
  transform?: (object: unknown) => void;
}

/**
 * A client-node Watch that requests bookmarks and a bounded
 * watch duration, and treats a watch that stays silent for silenceTimeoutMs
 * as dead. ListWatch resumes such a watch from its last resourceVersion.
 */
export class InformerWatch extends Watch {
  constructor(
    kubeConfig: KubeConfig,
    private readonly settings: InformerWatchOptions,
  ) {
    super(kubeConfig);

    // client-node 2.0.1 aborts a watch with a TimeoutError when no data has
    // arrived for requestTimeoutMs (30 s by default), and ListWatch resumes it
    // at once. Bookmarks arrive about once a minute, so the default would
    // reconnect every quiet watch; the field is private, hence the check.
    const watch = this as unknown as { requestTimeoutMs?: unknown };
    if (typeof watch.requestTimeoutMs !== 'number') {
      throw new Error(
        '@kubernetes/client-node Watch has no requestTimeoutMs; silent-watch detection needs updating for this client version',
      );
    }
    watch.requestTimeoutMs = settings.silenceTimeoutMs;
  }

  /** Starts a watch with allowWatchBookmarks and timeoutSeconds added to the query. */
  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
    done: (err: any) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
  ): Promise<AbortController> {
    const params = {
      ...queryParams,
      allowWatchBookmarks: true,
      timeoutSeconds: this.settings.timeoutSeconds(),
    };
    return super.watch(
      path,
      params,
      (phase, object, watchObject) => {
        if (object && typeof object === 'object' && phase !== 'ERROR')
          this.settings.transform?.(object);
        callback(phase, object, watchObject);
        this.settings.onEvent?.(phase);
      },
      (err) => {
        if ((err as { name?: unknown } | null)?.name === 'TimeoutError') this.settings.onSilent?.();
        done(err);
      },
    );
  }
}
