/**
 * Image upload streaming, against the fake cloud of fake-openstack.ts: real
 * Glance cannot show whether the client buffered the body before sending it,
 * nor fail an upload halfway on demand. The real upload is tested in
 * test/integration/openstack.test.ts.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import { OpenStackError, openCloud, type OpenStackClient } from '../../../src/openstack/index.js';
import { sendJson, startFakeOpenStack, type FakeOpenStack } from './fake-openstack.js';

const chunkSize = 64 * 1024;

describe('OpenStack image upload streaming', () => {
  let fake: FakeOpenStack;
  let client: OpenStackClient;

  beforeEach(async () => {
    fake = await startFakeOpenStack();
    client = openCloud(fake.config(), { retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  });

  afterEach(async () => {
    await client.close();
    await fake.close();
  });

  it('sends chunks before the source ends', async () => {
    let markArrived: () => void = () => undefined;
    const firstChunkArrived = new Promise<void>((resolve) => (markArrived = resolve));
    let received = 0;
    let transferEncoding: string | undefined;
    fake.handler = (request, response) => {
      transferEncoding = request.headers['transfer-encoding'];
      request.on('data', (chunk: Buffer) => {
        received += chunk.length;
        markArrived();
      });
      request.on('end', () => {
        response.writeHead(204, { 'X-Openstack-Request-Id': 'req-upload' });
        response.end();
      });
      return true;
    };

    async function* source() {
      yield Buffer.alloc(chunkSize, 1);
      // The rest is produced only once the server has received the first chunk, which
      // a client that reads the whole body before sending never allows.
      const stalled = new Promise((_resolve, reject) =>
        setTimeout(
          () =>
            reject(new Error('the first chunk never reached the server: the upload is buffered')),
          10_000,
        ).unref(),
      );
      await Promise.race([firstChunkArrived, stalled]);
      for (let i = 0; i < 15; i++) yield Buffer.alloc(chunkSize, 2);
    }

    const result = await client.image.uploadImage('img-1', Readable.from(source()));

    assert.equal(transferEncoding, 'chunked');
    assert.equal(received, 16 * chunkSize);
    assert.equal(result.bytesUploaded, 16 * chunkSize);
    assert.equal(result.requestId, 'req-upload');
  });

  it('does not resend an upload after a 503', async () => {
    fake.handler = (request, response) => {
      request.resume();
      request.on('end', () => sendJson(response, 503, { message: 'Service Unavailable' }));
      return true;
    };

    const err = await client.image
      .uploadImage('img-1', Readable.from([Buffer.alloc(chunkSize)]))
      .catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackError);
    assert.equal(err.errorClass, 'serverError');
    assert.equal(fake.requestsTo('/image/v2/images/img-1/file').length, 1);
  });

  it('does not resend an upload after a 401', async () => {
    fake.handler = (request, response) => {
      request.resume();
      request.on('end', () =>
        sendJson(response, 401, {
          error: { code: 401, message: 'The request you have made requires authentication.' },
        }),
      );
      return true;
    };

    const err = await client.image
      .uploadImage('img-1', Readable.from([Buffer.alloc(chunkSize)]))
      .catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackError);
    assert.equal(err.errorClass, 'unauthorized');
    assert.equal(fake.requestsTo('/image/v2/images/img-1/file').length, 1);
  });

  it('times out a stalled upload source', async function () {
    this.timeout(10_000);
    fake.handler = (request) => {
      request.resume();
      return true;
    };
    await client.close();
    client = openCloud(fake.config(), { timeoutMs: 300 });

    async function* stalls() {
      yield Buffer.alloc(chunkSize);
      await new Promise((resolve) => setTimeout(resolve, 5000).unref());
    }
    const err = await client.image
      .uploadImage('img-1', Readable.from(stalls()))
      .catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackError);
    assert.equal(err.code, 'TIMEOUT');
  });

  it('waits out a silent source with timeout 0', async function () {
    this.timeout(10_000);
    fake.handler = (request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(204);
        response.end();
      });
      return true;
    };
    await client.close();
    client = openCloud(fake.config(), { timeoutMs: 200 });

    async function* pauses() {
      yield Buffer.alloc(chunkSize);
      await new Promise((resolve) => setTimeout(resolve, 800));
      yield Buffer.alloc(chunkSize);
    }
    const result = await client.image.uploadImage('img-1', Readable.from(pauses()), {
      timeoutMs: 0,
    });

    assert.equal(result.bytesUploaded, 2 * chunkSize);
  });
});
