import assert from 'node:assert/strict';

import { describeProgress } from '../../../src/containerinstance/image-step.js';
import {
  ImageTracker,
  type PublishedImage,
  type PublishProgress,
} from '../../../src/containerinstance/image-tracker.js';
import { createLogger } from '../../../src/observability/logger.js';

/** Creates a publish whose outcome the test decides. */
function controllable() {
  let resolve!: (image: PublishedImage) => void;
  let reject!: (err: unknown) => void;
  let progress!: (progress: PublishProgress) => void;
  let starts = 0;
  const start = (onProgress: (progress: PublishProgress) => void) => {
    starts += 1;
    progress = onProgress;
    return new Promise<PublishedImage>((res, rej) => {
      resolve = res;
      reject = rej;
    });
  };
  return {
    start,
    resolve: (image: PublishedImage) => resolve(image),
    reject: (err: unknown) => reject(err),
    progress: (value: PublishProgress) => progress(value),
    starts: () => starts,
  };
}

const image = { glanceID: 'g-1', digest: 'sha256:' + 'a'.repeat(64) };
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('image tracker', () => {
  let settled: string[];
  let tracker: ImageTracker;

  beforeEach(() => {
    settled = [];
    tracker = new ImageTracker({
      logger: createLogger({ level: 'silent' }),
      onSettled: (uid) => settled.push(uid),
    });
  });

  it('reports publishing until the publish ends', () => {
    const publish = controllable();
    assert.equal(tracker.ensure('u', 'k', publish.start).state, 'publishing');
    assert.equal(tracker.ensure('u', 'k', publish.start).state, 'publishing');
    assert.equal(publish.starts(), 1);
  });

  it('reports the latest progress', () => {
    const publish = controllable();
    tracker.ensure('u', 'k', publish.start);
    publish.progress({ phase: 'pulling', bytesDownloaded: 5, bytesUploaded: 0 });
    const state = tracker.ensure('u', 'k', publish.start);
    assert.equal(state.state === 'publishing' && state.progress?.phase, 'pulling');
  });

  it('returns the image and notifies once published', async () => {
    const publish = controllable();
    tracker.ensure('u', 'k', publish.start);
    publish.resolve(image);
    await tick();
    assert.deepEqual(settled, ['u']);
    assert.deepEqual(tracker.ensure('u', 'k', publish.start), { state: 'ready', image });
  });

  it('throws a failure once and then starts over', async () => {
    const publish = controllable();
    tracker.ensure('u', 'k', publish.start);
    publish.reject(new Error('registry down'));
    await tick();
    assert.throws(() => tracker.ensure('u', 'k', publish.start), /registry down/);
    assert.equal(tracker.ensure('u', 'k', publish.start).state, 'publishing');
    assert.equal(publish.starts(), 2);
  });

  it('starts again when the request key changes', () => {
    const publish = controllable();
    tracker.ensure('u', 'k1', publish.start);
    tracker.ensure('u', 'k2', publish.start);
    assert.equal(publish.starts(), 2);
  });

  it('ignores the end of a replaced publish', async () => {
    const first = controllable();
    const second = controllable();
    tracker.ensure('u', 'k1', first.start);
    tracker.ensure('u', 'k2', second.start);
    first.resolve(image);
    await tick();
    assert.deepEqual(settled, []);
    assert.equal(tracker.ensure('u', 'k2', second.start).state, 'publishing');
  });

  it('joins a running publish', async () => {
    const publish = controllable();
    tracker.ensure('u1', 'k', publish.start);
    publish.progress({ phase: 'pulling', bytesDownloaded: 7, bytesUploaded: 0 });
    const joined = tracker.ensure('u2', 'k', publish.start);
    assert.equal(joined.state === 'publishing' && joined.progress?.bytesDownloaded, 7);
    assert.equal(publish.starts(), 1);

    publish.resolve(image);
    await tick();
    assert.deepEqual(settled.sort(), ['u1', 'u2']);
    assert.deepEqual(tracker.ensure('u2', 'k', publish.start), { state: 'ready', image });
  });

  it('shares a result within the window', async () => {
    const publish = controllable();
    tracker.ensure('u1', 'k', publish.start);
    publish.resolve(image);
    await tick();
    assert.deepEqual(tracker.ensure('u2', 'k', publish.start), { state: 'ready', image });
    assert.equal(publish.starts(), 1);
    assert.deepEqual(settled, ['u1'], 'an instance that got the image at once is not queued');
  });

  it('publishes again after the window', async () => {
    tracker = new ImageTracker({
      logger: createLogger({ level: 'silent' }),
      onSettled: (uid) => settled.push(uid),
      shareWindowMs: 0,
    });
    const publish = controllable();
    tracker.ensure('u1', 'k', publish.start);
    publish.resolve(image);
    await tick();
    assert.equal(tracker.ensure('u2', 'k', publish.start).state, 'publishing');
    assert.equal(publish.starts(), 2);
    assert.deepEqual(
      tracker.ensure('u1', 'k', publish.start),
      { state: 'ready', image },
      'an instance keeps its own image whatever its age',
    );
  });

  it('does not share across keys', () => {
    const publish = controllable();
    tracker.ensure('u1', 'k1', publish.start);
    tracker.ensure('u2', 'k2', publish.start);
    assert.equal(publish.starts(), 2);
  });

  it('throws a shared failure to each waiter', async () => {
    const publish = controllable();
    tracker.ensure('u1', 'k', publish.start);
    tracker.ensure('u2', 'k', publish.start);
    publish.reject(new Error('manifest unknown'));
    await tick();
    assert.deepEqual(settled.sort(), ['u1', 'u2']);
    assert.throws(() => tracker.ensure('u1', 'k', publish.start), /manifest unknown/);
    assert.throws(() => tracker.ensure('u2', 'k', publish.start), /manifest unknown/);
    assert.equal(tracker.ensure('u3', 'k', publish.start).state, 'publishing');
    assert.equal(publish.starts(), 2, 'a failure is not shared with later instances');
  });

  it('skips a forgotten instance', async () => {
    const publish = controllable();
    tracker.ensure('u1', 'k', publish.start);
    tracker.ensure('u2', 'k', publish.start);
    tracker.forget('u2');
    publish.resolve(image);
    await tick();
    assert.deepEqual(settled, ['u1']);
  });

  describe('describeProgress', () => {
    it('shows pulled megabytes of the total', () => {
      assert.equal(
        describeProgress('nginx:1.27', {
          phase: 'pulling',
          bytesDownloaded: 12_500_000,
          bytesUploaded: 0,
          imageSizeBytes: 40_000_000,
        }),
        'pulling nginx:1.27: 12 MB of 40 MB',
      );
    });

    it('describes a publish that has not reported', () => {
      assert.match(describeProgress('nginx:1.27', undefined), /resolving nginx:1\.27/);
    });
  });
});
