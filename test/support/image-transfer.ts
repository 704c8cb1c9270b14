/**
 * Push, pull and progress-stream helpers for the Docker Engine API, shared by
 * the harness and the tests.
 */
import type Docker from 'dockerode';

/** One line of a Docker Engine progress stream (pull, push, import, load). */
export interface DockerProgressEvent {
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: Record<string, unknown>;
}

/**
 * Reads a Docker Engine progress stream to its end and returns its events.
 * The engine reports a failed push or pull as an error event inside a 200
 * response, so this rejects with that event's message.
 */
export function followProgress(
  docker: Docker,
  stream: NodeJS.ReadableStream,
): Promise<DockerProgressEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: DockerProgressEvent[]) => {
      if (err) {
        reject(err);
        return;
      }
      const failed = events.find((e) => e.error ?? e.errorDetail?.message);
      if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error));
      else resolve(events);
    });
  });
}

/** Registry credentials for pushImage and pullImage. */
export interface RegistryAuth {
  username: string;
  password: string;
}

/**
 * Pushes `reference` from the engine to its registry and waits for the end.
 * Sends an empty X-Registry-Auth header when auth is absent, because dockerd
 * 20.10 rejects a push without that header. Rejects with the registry's error.
 */
export async function pushImage(
  docker: Docker,
  reference: string,
  auth?: RegistryAuth,
): Promise<void> {
  const stream = await docker.getImage(reference).push({ authconfig: authConfig(reference, auth) });
  await followProgress(docker, stream);
}

/** Pulls `reference` into the engine and waits for the end; rejects with the registry's error. */
export async function pullImage(
  docker: Docker,
  reference: string,
  auth?: RegistryAuth,
): Promise<void> {
  const stream = (await docker.pull(reference, {
    authconfig: authConfig(reference, auth),
  })) as NodeJS.ReadableStream;
  await followProgress(docker, stream);
}

function authConfig(
  reference: string,
  auth?: RegistryAuth,
): Docker.AuthConfig | Record<string, never> {
  if (!auth) return {};
  return { ...auth, serveraddress: reference.split('/')[0] ?? reference };
}
