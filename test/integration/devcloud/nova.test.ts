import assert from 'node:assert/strict';

import { startDevCloud, type DevCloud } from '../../support/devcloud.js';
import { call, type Session } from '../../support/openstack-http.js';
import { createServer, memberSession, uploadImage, waitForGone, waitForStatus } from './helpers.js';

describe('dev cloud Nova API without engine', function () {
  let cloud: DevCloud;
  let session: Session;
  let imageId: string;

  before(async function () {
    cloud = await startDevCloud({
      name: 'devcloud-nova',
      extraArgs: ['--quota-instances', '-1', '--quota-cores', '-1', '--quota-ram', '-1'],
    });
    session = await memberSession(cloud);
    imageId = await uploadImage(session, 'example/app:1', Buffer.from('not a real archive'));
  });

  after(async function () {
    await cloud?.stop();
  });

  const base = () => ({ name: 'web', imageRef: imageId, flavorRef: 'd1', networks: 'auto' });

  it('creates server that becomes ACTIVE', async function () {
    const id = await createServer(session, { ...base(), metadata: { GREETING: 'hello' } });
    const server = await waitForStatus(session, id, 'ACTIVE');
    assert.equal(server.metadata.GREETING, 'hello');
    assert.equal(server['OS-EXT-STS:power_state'], 1);
    assert.equal(server.flavor.original_name, 'ds512M');
    assert.ok(server.addresses.private?.[0]?.addr, 'expected an address on the private network');
  });

  it('returns request IDs on responses', async function () {
    const response = await call(session, 'compute', 'GET', '/servers');
    const requestId = response.headers.get('x-openstack-request-id');
    assert.match(requestId ?? '', /^req-[0-9a-f-]{36}$/);
    assert.equal(response.headers.get('x-compute-request-id'), requestId);
  });

  it('echoes the negotiated microversion', async function () {
    const response = await call(session, 'compute', 'GET', '/servers', { microversion: '2.37' });
    assert.equal(response.headers.get('openstack-api-version'), 'compute 2.37');
    assert.equal(response.headers.get('x-openstack-nova-api-version'), '2.37');
  });

  it('defaults to microversion 2.1', async function () {
    const response = await call(session, 'compute', 'GET', '/servers');
    assert.equal(response.headers.get('openstack-api-version'), 'compute 2.1');
  });

  it('rejects unsupported microversion with 406', async function () {
    const response = await call(session, 'compute', 'GET', '/servers', { microversion: '2.999' });
    assert.equal(response.status, 406);
    assert.match(response.body.computeFault.message, /Minimum is 2\.1 and maximum is 2\.93/);
  });

  it('rejects malformed microversion with 400', async function () {
    const response = await call(session, 'compute', 'GET', '/servers', { microversion: 'two' });
    assert.equal(response.status, 400);
    assert.match(response.body.badRequest.message, /invalid format/);
  });

  it('rejects unknown body field', async function () {
    const response = await call(session, 'compute', 'POST', '/servers', {
      body: { server: { ...base(), bogus_field: 1 } },
      microversion: '2.52',
    });
    assert.equal(response.status, 400);
    assert.match(
      response.body.badRequest.message,
      /Additional properties are not allowed \('bogus_field' was unexpected\)/,
    );
  });

  it('requires networks from microversion 2.37', async function () {
    const server: Record<string, unknown> = base();
    delete server.networks;
    const response = await call(session, 'compute', 'POST', '/servers', {
      body: { server },
      microversion: '2.37',
    });
    assert.equal(response.status, 400);
    assert.match(response.body.badRequest.message, /'networks' is a required property/);
  });

  it('accepts missing networks before 2.37', async function () {
    const server: Record<string, unknown> = base();
    delete server.networks;
    const response = await call(session, 'compute', 'POST', '/servers', {
      body: { server },
      microversion: '2.36',
    });
    assert.equal(response.status, 202);
  });

  it('rejects tags in body before 2.52', async function () {
    const response = await call(session, 'compute', 'POST', '/servers', {
      body: { server: { ...base(), tags: ['a'] } },
      microversion: '2.51',
    });
    assert.equal(response.status, 400);
  });

  it('rejects malformed JSON', async function () {
    const response = await fetch(`${session.endpoints.compute}/servers`, {
      method: 'POST',
      headers: { 'X-Auth-Token': session.token, 'Content-Type': 'application/json' },
      body: '{"server": ',
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { badRequest?: { message: string } };
    assert.equal(body.badRequest?.message, 'Malformed request body');
  });

  it('rejects non-string metadata values', async function () {
    const before = await call(session, 'compute', 'GET', '/servers');
    const response = await call(session, 'compute', 'POST', '/servers', {
      body: { server: { ...base(), metadata: { PORT: 8080 } } },
      microversion: '2.52',
    });
    assert.equal(response.status, 400);
    assert.match(response.body.badRequest.message, /8080 is not of type 'string'/);
    const after = await call(session, 'compute', 'GET', '/servers');
    assert.equal(after.body.servers.length, before.body.servers.length);
  });

  it('rejects unknown flavor', async function () {
    const response = await call(session, 'compute', 'POST', '/servers', {
      body: { server: { ...base(), flavorRef: 'no-such-flavor' } },
      microversion: '2.52',
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.badRequest.message, 'Flavor no-such-flavor could not be found.');
  });

  it('rejects unknown image', async function () {
    const response = await call(session, 'compute', 'POST', '/servers', {
      body: { server: { ...base(), imageRef: '00000000-0000-4000-8000-000000000000' } },
      microversion: '2.52',
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.badRequest.message, 'Can not find requested image');
  });

  it('rejects unknown network', async function () {
    const response = await call(session, 'compute', 'POST', '/servers', {
      body: { server: { ...base(), networks: [{ uuid: '00000000-0000-4000-8000-000000000000' }] } },
      microversion: '2.52',
    });
    assert.equal(response.status, 400);
    assert.match(
      response.body.badRequest.message,
      /Network 00000000-0000-4000-8000-000000000000 could not be found/,
    );
  });

  it('returns itemNotFound for missing server', async function () {
    const response = await call(
      session,
      'compute',
      'GET',
      '/servers/00000000-0000-4000-8000-000000000000',
    );
    assert.equal(response.status, 404);
    assert.deepEqual(response.body, {
      itemNotFound: {
        code: 404,
        message: 'Instance 00000000-0000-4000-8000-000000000000 could not be found.',
      },
    });
  });

  it('rejects requests without token', async function () {
    const response = await fetch(`${session.endpoints.compute}/servers`);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Keystone uri="/);
    const body = (await response.json()) as { error?: { code: number; title: string } };
    assert.equal(body.error?.title, 'Unauthorized');
  });

  it('runs power actions with state checks', async function () {
    const id = await createServer(session, base());
    await waitForStatus(session, id, 'ACTIVE');
    const action = (body: unknown) =>
      call(session, 'compute', 'POST', `/servers/${id}/action`, { body });

    const startActive = await action({ 'os-start': null });
    assert.equal(startActive.status, 409);
    assert.match(
      startActive.body.conflictingRequest.message,
      /Cannot 'start' instance .* while it is in vm_state active/,
    );

    assert.equal((await action({ 'os-stop': null })).status, 202);
    await waitForStatus(session, id, 'SHUTOFF');
    assert.equal((await action({ 'os-start': null })).status, 202);
    await waitForStatus(session, id, 'ACTIVE');
    assert.equal((await action({ pause: null })).status, 202);
    await waitForStatus(session, id, 'PAUSED');
    assert.equal((await action({ unpause: null })).status, 202);
    await waitForStatus(session, id, 'ACTIVE');
    assert.equal((await action({ reboot: { type: 'HARD' } })).status, 202);
    await waitForStatus(session, id, 'ACTIVE');
    const unknown = await action({ resize: { flavorRef: '1' } });
    assert.equal(unknown.status, 400);
  });

  it('returns console output', async function () {
    const id = await createServer(session, base());
    await waitForStatus(session, id, 'ACTIVE');
    const response = await call(session, 'compute', 'POST', `/servers/${id}/action`, {
      body: { 'os-getConsoleOutput': { length: 10 } },
    });
    assert.equal(response.status, 200);
    assert.equal(typeof response.body.output, 'string');
  });

  it('filters servers by tags', async function () {
    const both = await createServer(session, {
      ...base(),
      name: 'tagged-both',
      tags: ['alpha', 'beta'],
    });
    const alpha = await createServer(session, { ...base(), name: 'tagged-alpha', tags: ['alpha'] });
    const list = async (query: string) => {
      const response = await call(session, 'compute', 'GET', `/servers?${query}`, {
        microversion: '2.26',
      });
      return (response.body.servers as Array<{ id: string }>).map((server) => server.id).sort();
    };
    assert.deepEqual(await list('tags=alpha,beta'), [both]);
    assert.deepEqual(await list('tags-any=alpha,beta'), [alpha, both].sort());
    assert.deepEqual(await list('tags=alpha&not-tags=beta'), [alpha]);
  });

  it('manages tags from microversion 2.26', async function () {
    const id = await createServer(session, base());
    await waitForStatus(session, id, 'ACTIVE');
    const old = await call(session, 'compute', 'GET', `/servers/${id}/tags`, {
      microversion: '2.25',
    });
    assert.equal(old.status, 404);

    const put = await call(session, 'compute', 'PUT', `/servers/${id}/tags/owner-123`, {
      microversion: '2.26',
    });
    assert.equal(put.status, 201);
    const again = await call(session, 'compute', 'PUT', `/servers/${id}/tags/owner-123`, {
      microversion: '2.26',
    });
    assert.equal(again.status, 204);
    const tags = await call(session, 'compute', 'GET', `/servers/${id}/tags`, {
      microversion: '2.26',
    });
    assert.deepEqual(tags.body.tags, ['owner-123']);
    const removed = await call(session, 'compute', 'DELETE', `/servers/${id}/tags/owner-123`, {
      microversion: '2.26',
    });
    assert.equal(removed.status, 204);
    const missing = await call(session, 'compute', 'GET', `/servers/${id}/tags/owner-123`, {
      microversion: '2.26',
    });
    assert.equal(missing.status, 404);
  });

  it('filters servers by name regex', async function () {
    await createServer(session, { ...base(), name: 'unique-name-42' });
    const response = await call(session, 'compute', 'GET', '/servers?name=^unique-name-4');
    assert.deepEqual(
      response.body.servers.map((server: { name: string }) => server.name),
      ['unique-name-42'],
    );
  });

  it('paginates with limit and marker', async function () {
    const all = await call(session, 'compute', 'GET', '/servers');
    const ids = (all.body.servers as Array<{ id: string }>).map((server) => server.id);
    assert.ok(ids.length >= 3, `expected at least 3 servers, got ${ids.length}`);

    const first = await call(session, 'compute', 'GET', '/servers?limit=2');
    assert.deepEqual(
      first.body.servers.map((server: { id: string }) => server.id),
      ids.slice(0, 2),
    );
    const next = new URL(first.body.servers_links[0].href);
    assert.equal(next.searchParams.get('marker'), ids[1]);
    assert.equal(next.searchParams.get('limit'), '2');

    const second = await call(session, 'compute', 'GET', `/servers?limit=2&marker=${ids[1]}`);
    assert.deepEqual(
      second.body.servers.map((server: { id: string }) => server.id),
      ids.slice(2, 4),
    );

    const badMarker = await call(session, 'compute', 'GET', '/servers?marker=no-such-server');
    assert.equal(badMarker.status, 400);
    assert.equal(badMarker.body.badRequest.message, 'marker [no-such-server] not found');
  });

  it('lists deleted servers with changes-since', async function () {
    const since = new Date(Date.now() - 1000).toISOString();
    const id = await createServer(session, base());
    await waitForStatus(session, id, 'ACTIVE');
    assert.equal((await call(session, 'compute', 'DELETE', `/servers/${id}`)).status, 204);
    await waitForGone(session, id);

    const plain = await call(session, 'compute', 'GET', '/servers/detail');
    assert.ok(
      !plain.body.servers.some((server: { id: string }) => server.id === id),
      'deleted server in a plain list',
    );
    const changes = await call(
      session,
      'compute',
      'GET',
      `/servers/detail?changes-since=${encodeURIComponent(since)}`,
    );
    const deleted = changes.body.servers.find((server: { id: string }) => server.id === id);
    assert.equal(deleted?.status, 'DELETED');
  });

  it('replaces and merges metadata', async function () {
    const id = await createServer(session, { ...base(), metadata: { A: '1' } });
    await waitForStatus(session, id, 'ACTIVE');
    const merged = await call(session, 'compute', 'POST', `/servers/${id}/metadata`, {
      body: { metadata: { B: '2' } },
    });
    assert.deepEqual(merged.body.metadata, { A: '1', B: '2' });
    const replaced = await call(session, 'compute', 'PUT', `/servers/${id}/metadata`, {
      body: { metadata: { C: '3' } },
    });
    assert.deepEqual(replaced.body.metadata, { C: '3' });
    const item = await call(session, 'compute', 'GET', `/servers/${id}/metadata/C`);
    assert.deepEqual(item.body.meta, { C: '3' });
  });

  it('serves the legacy project path', async function () {
    const legacy = session.endpoints.compute.replace(/\/v2\.1$/, `/v2.1/${session.projectId}`);
    const response = await fetch(`${legacy}/servers`, {
      headers: { 'X-Auth-Token': session.token },
    });
    assert.equal(response.status, 200);
    const other = await fetch(`${legacy.replace(session.projectId, 'someoneelse')}/servers`, {
      headers: { 'X-Auth-Token': session.token },
    });
    assert.equal(other.status, 400);
  });

  it('lists and shows flavors', async function () {
    const list = await call(session, 'compute', 'GET', '/flavors/detail');
    const names = list.body.flavors.map((flavor: { name: string }) => flavor.name);
    assert.ok(names.includes('m1.tiny'));
    assert.ok(names.includes('ds1G'));
    const missing = await call(session, 'compute', 'GET', '/flavors/nope');
    assert.equal(missing.body.itemNotFound.message, 'Flavor nope could not be found.');
  });
});
