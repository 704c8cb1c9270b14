import { StringDecoder } from 'node:string_decoder';

/** One JSON line of a Docker Engine progress stream (pull, push, load). */
export interface DockerProgressEvent {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
}

/**
 * Thrown when a Docker progress stream carries an error line or is not a
 * progress stream. The Engine sends status 200 before it starts pulling, so
 * a pull that fails after that point is reported inside the stream.
 */
export class DockerProgressError extends Error {
  override readonly name = 'DockerProgressError';
  /** The error line, when the stream carried one. */
  readonly event: DockerProgressEvent | undefined;

  constructor(message: string, event?: DockerProgressEvent) {
    super(message);
    this.event = event;
  }
}

/**
 * Returns the error message an event carries (`errorDetail.message`, else
 * `error`), or undefined for a normal progress event.
 */
export function progressEventError(event: DockerProgressEvent): string | undefined {
  const detail = event.errorDetail?.message;
  if (typeof detail === 'string' && detail.length > 0) return detail;
  if (typeof event.error === 'string' && event.error.length > 0) return event.error;
  if (event.error !== undefined || event.errorDetail !== undefined) return 'unknown error';
  return undefined;
}

/**
 * Reads a Docker progress stream to its end, calling onEvent for each line.
 * Dockerode's `followProgress` reports success even when a line carries an
 * error. This function rejects with a {@link DockerProgressError} at the first
 * error line (and destroys the stream) or at a line that is not JSON. A stream
 * that fails at the socket rejects with that error.
 */
export async function readProgressStream(
  stream: AsyncIterable<Buffer | string> & { destroy?(error?: Error): void },
  onEvent?: (event: DockerProgressEvent) => void,
): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let pending = '';

  const handleLine = (line: string): void => {
    const text = line.trim();
    if (text.length === 0) return;

    let event: DockerProgressEvent;
    try {
      event = JSON.parse(text) as DockerProgressEvent;
    } catch {
      throw new DockerProgressError(
        `Docker Engine sent a progress line that is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
      );
    }
    if (typeof event !== 'object' || event === null) {
      throw new DockerProgressError(
        `Docker Engine sent a progress line that is not an object: ${JSON.stringify(text.slice(0, 200))}`,
      );
    }

    const error = progressEventError(event);
    if (error !== undefined) throw new DockerProgressError(error, event);
    onEvent?.(event);
  };

  try {
    for await (const chunk of stream) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        handleLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    }
    handleLine(pending + decoder.end());
  } catch (err) {
    stream.destroy?.();
    throw err;
  }
}
