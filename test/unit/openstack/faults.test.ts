/**
 * Transport faults: retries, Retry-After, connection resets, shared
 * re-authentication and timeouts. These run against the fake cloud in
 * fake-openstack.ts because real services do not produce these faults on
 * demand; see that file for the reasoning.
 */
import assert from 'node:assert/strict';

import {
  OpenStackError,
  openCloud,
  type OpenStackClient,
  type RequestEvent,
  type SessionOptions,
} from '../../../src/openstack/index.js';
import { sendJson, startFakeOpenStack, type FakeOpenStack } from './fake-openstack.js';

const serverBody = {
  server: { id: 'srv-1', name: 'web', status: 'ACTIVE', metadata: {}, addresses: {}, tags: [] },
};
const fastRetry = { baseDelayMs: 5, maxDelayMs: 20 };

describe('OpenStack transport faults', function () {
  let fake: FakeOpenStack;
  let client: OpenStackClient;
  let events: RequestEvent[];

  const open = (options: SessionOptions = {}, extraConfig = '') => {
    events = [];
    client = openCloud(fake.config(extraConfig), {
      retry: fastRetry,
      observer: (event) => events.push(event),
      ...options,
    });
    return client;
  };

  beforeEach(async () => {
    fake = await startFakeOpenStack();
  });

  afterEach(async () => {
    await client?.close();
    await fake.close();
  });

  it('retries a 503 then succeeds', async () => {
    let calls = 0;
    fake.handler = (_request, response) => {
      calls++;
      if (calls === 1) sendJson(response, 503, { message: 'Service Unavailable' });
      else sendJson(response, 200, serverBody);
      return true;
    };

    const server = await open().compute.getServer('srv-1');

    assert.equal(server.id, 'srv-1');
    assert.equal(fake.requestsTo('/compute/v2.1/servers/srv-1').length, 2);
    assert.deepEqual(
      events.filter((event) => event.route === '/servers/{id}').map((event) => event.status),
      [503, 200],
    );
  });

  it('waits out Retry-After before retrying', async function () {
    this.timeout(10_000);
    let calls = 0;
    fake.handler = (_request, response) => {
      calls++;
      if (calls === 1)
        sendJson(response, 429, { message: 'Too Many Requests' }, { 'Retry-After': '2' });
      else sendJson(response, 200, serverBody);
      return true;
    };

    await open().compute.getServer('srv-1');

    const [first, second] = fake.requestsTo('/compute/v2.1/servers/srv-1');
    assert.ok(first, 'expected a first request');
    assert.ok(second, 'expected a retry');
    // Server-side arrival times: the retry must not come before the 2 s the server asked for.
    assert.ok(
      second.receivedAt - first.receivedAt >= 2000,
      `retry came after ${second.receivedAt - first.receivedAt} ms`,
    );
  });

  it('fails at once on a Retry-After above the maximum', async () => {
    fake.handler = (_request, response) => {
      sendJson(response, 429, { message: 'Too Many Requests' }, { 'Retry-After': '3600' });
      return true;
    };

    const err = await open()
      .compute.getServer('srv-1')
      .catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackError);
    assert.equal(err.errorClass, 'rateLimited');
    assert.equal(err.retryAfterMs, 3600_000);
    assert.equal(fake.requestsTo('/compute/v2.1/servers/srv-1').length, 1);
  });

  it('retries a GET after a connection reset', async () => {
    let calls = 0;
    fake.handler = (request, response) => {
      calls++;
      if (calls === 1) request.socket.destroy();
      else sendJson(response, 200, serverBody);
      return true;
    };

    const server = await open().compute.getServer('srv-1');

    assert.equal(server.id, 'srv-1');
    assert.equal(fake.requestsTo('/compute/v2.1/servers/srv-1').length, 2);
    assert.equal(events.find((event) => event.route === '/servers/{id}')?.error, 'network');
  });

  it('does not retry a POST after a 503', async () => {
    fake.handler = (request, response) => {
      request.resume();
      sendJson(response, 503, { message: 'Service Unavailable' });
      return true;
    };

    const err = await open()
      .compute.createServer({ name: 'web', imageRef: 'img', flavorRef: 'f', networks: 'none' })
      .catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackError);
    assert.equal(err.errorClass, 'serverError');
    assert.equal(err.status, 503);
    assert.equal(
      fake.requests.filter(
        (request) => request.method === 'POST' && request.path === '/compute/v2.1/servers',
      ).length,
      1,
    );
  });

  it('does not retry a POST after a connection reset', async () => {
    fake.handler = (request) => {
      request.socket.destroy();
      return true;
    };

    const err = await open()
      .compute.createServer({ name: 'web', imageRef: 'img', flavorRef: 'f', networks: 'none' })
      .catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackError);
    assert.equal(err.errorClass, 'network');
    assert.equal(
      fake.requests.filter((request) => request.path === '/compute/v2.1/servers').length,
      1,
    );
  });

  it('retries a POST that was refused before connecting', async () => {
    // No idle keep-alive connection may remain: a POST on one that the server
    // closed fails with a socket error that does not prove anything.
    fake.keepAlive = false;
    open();
    await client.compute.microversion();
    // With the fake stopped, connections to its port are refused: proof that
    // the request never reached a server, so even a POST may be sent again.
    await fake.close();

    const err = await client.compute
      .createServer({ name: 'web', imageRef: 'img', flavorRef: 'f', networks: 'none' })
      .catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackError);
    assert.equal(err.errorClass, 'network');
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(
      events.filter((event) => event.route === '/servers' && event.method === 'POST').length,
      4,
    );
  });

  it('re-authenticates once for 20 requests in flight', async () => {
    const heldResponses: Array<() => void> = [];
    fake.handler = (_request, response, recorded) => {
      if (recorded.token === fake.tokensIssued[0]) {
        // Hold every request with the first token until all 20 are in flight,
        // then reject them all, as a service does when the token expired.
        heldResponses.push(() =>
          sendJson(response, 401, {
            error: { code: 401, message: 'The request you have made requires authentication.' },
          }),
        );
        if (heldResponses.length === 20) heldResponses.forEach((reject) => reject());
        return true;
      }
      sendJson(response, 200, serverBody);
      return true;
    };
    open();
    await client.compute.microversion();

    const results = await Promise.all(
      Array.from({ length: 20 }, () => client.compute.getServer('srv-1')),
    );

    assert.equal(results.length, 20);
    assert.ok(results.every((server) => server.id === 'srv-1'));
    assert.equal(fake.tokensIssued.length, 2);
    assert.equal(client.session.authCount, 2);
  });

  it('fails with unauthorized when a fresh token is rejected', async () => {
    fake.handler = (_request, response) => {
      sendJson(response, 401, {
        error: { code: 401, message: 'The request you have made requires authentication.' },
      });
      return true;
    };

    const err = await open()
      .compute.getServer('srv-1')
      .catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackError);
    assert.equal(err.errorClass, 'unauthorized');
    assert.equal(fake.tokensIssued.length, 2);
  });

  it('times out a slow response', async function () {
    this.timeout(10_000);
    fake.handler = (_request, response) => {
      setTimeout(() => sendJson(response, 200, serverBody), 3000).unref();
      return true;
    };

    const err = await open({ timeoutMs: 200, retry: { ...fastRetry, maxRetries: 1 } })
      .compute.getServer('srv-1')
      .catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackError);
    assert.equal(err.errorClass, 'network');
    assert.equal(err.code, 'TIMEOUT');
    assert.match(err.message, /no response within 200 ms/);
    assert.equal(fake.requestsTo('/compute/v2.1/servers/srv-1').length, 2);
  });

  it('stops retrying when the caller aborts', async () => {
    fake.handler = (_request, response) => {
      sendJson(response, 503, { message: 'Service Unavailable' }, { 'Retry-After': '30' });
      return true;
    };
    const controller = new AbortController();
    open();
    await client.compute.microversion();

    const pending = client.compute
      .getServer('srv-1', { signal: controller.signal })
      .catch((caught: unknown) => caught);
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    const err = await pending;

    assert.ok(err instanceof Error);
    assert.equal(err.message, 'shutting down');
    assert.equal(fake.requestsTo('/compute/v2.1/servers/srv-1').length, 1);
  });

  it('reports each attempt to the observer', async () => {
    fake.handler = (_request, response) => {
      sendJson(response, 404, {
        itemNotFound: { code: 404, message: 'Instance srv-9 could not be found.' },
      });
      return true;
    };

    const err = await open()
      .compute.getServer('srv-9')
      .catch((caught: unknown) => caught);

    const event = events.find((candidate) => candidate.route === '/servers/{id}');
    assert.ok(err instanceof OpenStackError);
    assert.equal(err.errorClass, 'notFound');
    assert.equal(err.serviceMessage, 'Instance srv-9 could not be found.');
    assert.equal(event?.service, 'compute');
    assert.equal(event?.method, 'GET');
    assert.equal(event?.status, 404);
    assert.equal(event?.error, 'notFound');
    assert.equal(event?.requestId, err.requestId);
    assert.match(event?.requestId ?? '', /^req-/);
  });
});
