/**
 * Time limits of HTTP attempts: the per-attempt inactivity timer, the byte
 * counter that feeds it during uploads, and the abortable backoff sleep.
 */
import type { Readable } from 'node:stream';

/**
 * An attempt's abort signal: fires on the caller's signal or after timeoutMs
 * of inactivity. {@link AttemptTimer.touch} restarts the countdown, so a
 * streamed upload times out only when it stalls.
 */
export class AttemptTimer {
  readonly #controller = new AbortController();
  readonly #callerSignal: AbortSignal | undefined;
  readonly #onCallerAbort = () => this.#controller.abort(this.#callerSignal?.reason);
  #timer: NodeJS.Timeout | undefined;
  #cleared = false;
  timedOut = false;

  constructor(
    readonly timeoutMs: number,
    callerSignal: AbortSignal | undefined,
  ) {
    this.#callerSignal = callerSignal;
    if (callerSignal?.aborted) this.#controller.abort(callerSignal.reason);
    callerSignal?.addEventListener('abort', this.#onCallerAbort, { once: true });
    this.touch();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Restarts the countdown; a timeout of 0 never starts one. */
  touch(): void {
    if (this.#cleared || this.timeoutMs <= 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#controller.abort(new Error(`timed out after ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  /** Stops the countdown; the caller's signal still aborts a stream being read. */
  clear(): void {
    this.#cleared = true;
    clearTimeout(this.#timer);
  }

  /** Detaches from the caller's signal once the attempt's response is fully read. */
  release(): void {
    this.clear();
    this.#callerSignal?.removeEventListener('abort', this.#onCallerAbort);
  }
}

/** Yields the chunks of source unchanged, counting bytes and restarting the timer on each. */
export async function* countingStream(
  source: Readable,
  timer: AttemptTimer,
  count: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
    count(bytes.byteLength);
    timer.touch();
    yield bytes;
  }
  timer.touch();
}

/** Resolves after ms, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
