import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

import { MANAGED_TAG, instanceTag } from '../../../src/api/index.js';
import { ReconcileFailure } from '../../../src/containerinstance/failures.js';
import { ServerObserver } from '../../../src/containerinstance/server-observer.js';
import { createLogger } from '../../../src/observability/logger.js';
import {
  cloudConfigFromString,
  openCloud,
  type OpenStackClient,
} from '../../../src/openstack/index.js';
import { devCloudAdmin, startDevCloud, type DevCloud } from '../../support/devcloud.js';
import { waitFor } from '../../support/process.js';

interface Stats {
  requests: Array<{ method: string; route: string; count: number }>;
}

describe('bulk server observer on the dev cloud', function () {
  this.timeout(120_000);
  let cloud: DevCloud;
  let client: OpenStackClient;
  let imageRef: string;
  let observer: ServerObserver;
  const changed: string[] = [];
  const scope = 'devcloud-observer';

  /** Returns how many server listings the dev cloud served so far. */
  const listings = async () =>
    (await devCloudAdmin<Stats>(cloud, 'GET', '/stats')).requests
      .filter((row) => row.method === 'GET' && row.route.endsWith('/servers/detail'))
      .reduce((sum, row) => sum + row.count, 0);

  /** Creates a server tagged for a new instance UID and returns both. */
  const createTagged = async (flavorRef = '1') => {
    const uid = randomUUID();
    const created = await client.compute.createServer({
      name: `observer-${uid.slice(0, 8)}`,
      imageRef,
      flavorRef,
      networks: 'auto',
      tags: [MANAGED_TAG, instanceTag(uid)],
    });
    return { uid, id: created.id };
  };

  before(async function () {
    cloud = await startDevCloud({
      name: 'devcloud-observer',
      extraArgs: ['--build-delay', '1000'],
    });
    client = openCloud(cloudConfigFromString(cloud.cloudsYaml, { cloud: cloud.cloudName }), {
      retry: { maxRetries: 0 },
    });
    const image = await client.image.createImage({
      name: 'observer-test',
      containerFormat: 'docker',
    });
    await client.image.uploadImage(image.id, Readable.from([Buffer.from('not a real archive')]));
    imageRef = image.id;
  });

  beforeEach(() => {
    changed.length = 0;
    observer = new ServerObserver({
      activeIntervalMs: 200,
      idleIntervalMs: 2000,
      logger: createLogger({ level: 'silent' }),
      onChange: (uids) => changed.push(...uids),
    });
  });

  afterEach(async () => {
    observer.stop();
    await devCloudAdmin(cloud, 'PATCH', '/faults', {
      errorRates: { '500': 0 },
      failingFlavors: [],
    });
  });

  after(async () => {
    await client?.close();
    await cloud?.stop();
  });

  it('shares one listing between concurrent readers', async () => {
    const before = await listings();
    const list = observer.list(scope, client, randomUUID());
    await Promise.all([list.read(), list.read(), list.read(), list.read()]);
    assert.equal((await listings()) - before, 1);
  });

  it('lists again for a read after a write', async () => {
    const list = observer.list(scope, client, randomUUID());
    await list.read();
    const { uid, id } = await createTagged();
    const snapshot = await list.read(Date.now());
    assert.deepEqual(
      snapshot.serversOf(uid).map((server) => server.id),
      [id],
    );
  });

  it('reports a server change without a read', async () => {
    const list = observer.list(scope, client, randomUUID());
    await list.read();
    const { uid } = await createTagged();
    list.refreshSoon();
    await waitFor(
      'the observer to report the server build finishing',
      async () => {
        const snapshot = await list.read();
        return changed.includes(uid) && snapshot.serversOf(uid)[0]?.status === 'ACTIVE';
      },
      30_000,
      100,
    );
  });

  it('treats a failed listing as unknown, not absent', async () => {
    const list = observer.list(scope, client, randomUUID());
    const { uid } = await createTagged();
    await list.read(Date.now());
    await devCloudAdmin(cloud, 'PATCH', '/faults', {
      errorServices: ['compute'],
      errorRates: { '500': 1 },
    });

    const failure = await list.read(Date.now()).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(failure instanceof ReconcileFailure, String(failure));
    assert.equal(failure.reason, 'ObserveFailed');
    assert.equal(failure.kind, 'transient');

    await devCloudAdmin(cloud, 'PATCH', '/faults', { errorRates: { '500': 0 } });
    await waitFor(
      'the listing to work again',
      async () => {
        const snapshot = await list.read().catch(() => undefined);
        return snapshot !== undefined && snapshot.serversOf(uid).length === 1;
      },
      30_000,
      100,
    );
  });

  it('adds the fault of a server in ERROR', async () => {
    await devCloudAdmin(cloud, 'PATCH', '/faults', { failingFlavors: ['m1.nano'] });
    const list = observer.list(scope, client, randomUUID());
    const { uid } = await createTagged('42');
    let fault: string | undefined;
    await waitFor(
      'the server to go to ERROR',
      async () => {
        const [server] = (await list.read(Date.now())).serversOf(uid);
        fault = server?.fault?.message;
        return server?.status === 'ERROR';
      },
      30_000,
      200,
    );
    assert.match(fault ?? '', /No valid host was found/);
  });

  it('keeps listing while an instance uses it', async () => {
    observer.stop();
    observer = new ServerObserver({
      activeIntervalMs: 50,
      idleIntervalMs: 100,
      expireAfterMs: 300,
      logger: createLogger({ level: 'silent' }),
      onChange: () => undefined,
    });
    const uid = randomUUID();
    await observer.list(scope, client, randomUUID()).read(0, uid);
    const before = await listings();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(observer.size, 1);
    assert.ok((await listings()) > before, 'the listing stopped although an instance uses it');

    observer.release(uid);
    await waitFor(
      'the listing to stop after the release',
      async () => observer.size === 0,
      10_000,
      50,
    );
  });

  it('lists each instance alone in per-instance mode', async () => {
    observer.stop();
    observer = new ServerObserver({
      activeIntervalMs: 200,
      idleIntervalMs: 2000,
      mode: 'per-instance',
      logger: createLogger({ level: 'silent' }),
      onChange: () => undefined,
    });
    const first = await createTagged();
    const second = await createTagged();
    const before = await listings();
    const firstSnapshot = await observer.list(scope, client, first.uid).read(0, first.uid);
    const secondSnapshot = await observer.list(scope, client, second.uid).read(0, second.uid);
    assert.equal((await listings()) - before, 2);
    assert.equal(observer.size, 2);
    assert.deepEqual(
      firstSnapshot.serversOf(first.uid).map((server) => server.id),
      [first.id],
    );
    assert.equal(firstSnapshot.size, 1, 'the listing of one instance holds only its server');
    assert.deepEqual(
      secondSnapshot.serversOf(second.uid).map((server) => server.id),
      [second.id],
    );
  });

  it('stops a listing nobody reads', async () => {
    observer.stop();
    observer = new ServerObserver({
      activeIntervalMs: 50,
      idleIntervalMs: 100,
      expireAfterMs: 300,
      logger: createLogger({ level: 'silent' }),
      onChange: () => undefined,
    });
    await observer.list(scope, client, randomUUID()).read();
    await waitFor('the listing to stop', async () => observer.size === 0, 10_000, 50);
  });
});
