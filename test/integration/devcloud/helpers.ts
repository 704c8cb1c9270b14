import { call, type Session } from '../../support/openstack-http.js';
import { waitFor } from '../../support/process.js';
import type { DevCloud } from '../../support/devcloud.js';
import { passwordSession } from '../../support/openstack-http.js';

/** Opens a session as the dev cloud's member user. */
export async function memberSession(cloud: DevCloud): Promise<Session> {
  return passwordSession({
    authUrl: cloud.authUrl,
    username: 'operator',
    password: 'devcloud',
    projectName: 'devcloud',
  });
}

/** Creates an active Glance image with the given data and properties; returns its ID. */
export async function uploadImage(
  session: Session,
  name: string,
  data: Buffer,
  properties: Record<string, unknown> = {},
): Promise<string> {
  const created = await call(session, 'image', 'POST', '/v2/images', {
    body: { name, container_format: 'docker', disk_format: 'raw', ...properties },
  });
  if (created.status !== 201)
    throw new Error(`image create failed with ${created.status}: ${created.text}`);
  const uploaded = await call(session, 'image', 'PUT', `/v2/images/${created.body.id}/file`, {
    body: data,
    contentType: 'application/octet-stream',
  });
  if (uploaded.status !== 204)
    throw new Error(`image upload failed with ${uploaded.status}: ${uploaded.text}`);
  return created.body.id as string;
}

/** Creates a server at microversion 2.52 (tags in the body) and returns its ID; throws with the body on failure. */
export async function createServer(
  session: Session,
  server: Record<string, unknown>,
  microversion = '2.52',
): Promise<string> {
  const response = await call(session, 'compute', 'POST', '/servers', {
    body: { server },
    microversion,
  });
  if (response.status !== 202)
    throw new Error(`server create failed with ${response.status}: ${response.text}`);
  return response.body.server.id as string;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- server bodies are checked field by field in the tests */

/** Polls GET /servers/{id} until the status matches; returns the server body. */
export async function waitForStatus(
  session: Session,
  id: string,
  status: string,
  timeoutMs = 60_000,
): Promise<any> {
  let server: any;
  await waitFor(
    `server ${id} to reach ${status}`,
    async () => {
      const response = await call(session, 'compute', 'GET', `/servers/${id}`, {
        microversion: '2.93',
      });
      server = response.body?.server;
      if (server?.status === 'ERROR' && status !== 'ERROR') {
        throw new Error(`server ${id} went to ERROR: ${JSON.stringify(server.fault)}`);
      }
      return server?.status === status;
    },
    timeoutMs,
    100,
  );
  return server;
}

/** Polls until GET /servers/{id} returns 404. */
export async function waitForGone(session: Session, id: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `server ${id} to be deleted`,
    async () => {
      const response = await call(session, 'compute', 'GET', `/servers/${id}`);
      return response.status === 404;
    },
    timeoutMs,
    100,
  );
}
