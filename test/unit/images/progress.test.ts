import assert from 'node:assert/strict';
import { Readable } from 'node:stream';

import Docker from 'dockerode';

import { classifyPullMessage } from '../../../src/images/pull.js';
import {
  DockerProgressError,
  progressEventError,
  readProgressStream,
  type DockerProgressEvent,
} from '../../../src/images/progress.js';

const pullLines = [
  '{"status":"Pulling from team/app","id":"1.0"}',
  '{"status":"Pulling fs layer","progressDetail":{},"id":"3c47072071a2"}',
  '{"status":"Downloading","progressDetail":{"current":1024,"total":4096},"progress":"[==>  ]","id":"3c47072071a2"}',
  '{"status":"Download complete","progressDetail":{},"id":"3c47072071a2"}',
  '{"status":"Digest: sha256:6dab380546b9a6d94479bffd375bcc66122c7820e1696d9970e4ad1eb56604fd"}',
];
const errorLine =
  '{"errorDetail":{"message":"received unexpected HTTP status: 500 Internal Server Error"},' +
  '"error":"received unexpected HTTP status: 500 Internal Server Error"}';

async function collect(chunks: (string | Buffer)[]): Promise<DockerProgressEvent[]> {
  const events: DockerProgressEvent[] = [];
  await readProgressStream(Readable.from(chunks), (event) => events.push(event));
  return events;
}

describe('Docker progress stream', () => {
  it('reads every event of a successful pull', async () => {
    const events = await collect([pullLines.join('\n') + '\n']);
    assert.equal(events.length, pullLines.length);
    assert.equal(events[2]?.progressDetail?.current, 1024);
  });

  it('joins lines split across chunks', async () => {
    const text = pullLines.join('\r\n');
    const chunks = text.match(/[\s\S]{1,7}/g)!;
    const events = await collect(chunks);
    assert.equal(events.length, pullLines.length);
    assert.match(events[4]?.status ?? '', /^Digest: sha256:/);
  });

  it('decodes multibyte characters split across chunks', async () => {
    const line = Buffer.from('{"status":"Téléchargement ✓"}\n');
    const events = await collect([line.subarray(0, 15), line.subarray(15, 16), line.subarray(16)]);
    assert.equal(events[0]?.status, 'Téléchargement ✓');
  });

  it('rejects at an error line', async () => {
    const seen: DockerProgressEvent[] = [];
    await assert.rejects(
      readProgressStream(
        Readable.from([pullLines.slice(0, 2).join('\n') + '\n' + errorLine + '\n' + pullLines[4]]),
        (e) => seen.push(e),
      ),
      (err: unknown) => {
        assert.ok(err instanceof DockerProgressError);
        assert.equal(err.message, 'received unexpected HTTP status: 500 Internal Server Error');
        assert.ok(err.event?.errorDetail);
        return true;
      },
    );
    assert.equal(seen.length, 2, 'events after the error line are not delivered');
  });

  it('rejects an error line without newline', async () => {
    await assert.rejects(collect([errorLine]), DockerProgressError);
  });

  it('rejects a line that is not JSON', async () => {
    await assert.rejects(
      collect(['{"status":"ok"}\n<html>502 Bad Gateway</html>\n']),
      /not JSON: "<html>502 Bad Gateway<\/html>"/,
    );
  });

  it('rejects when the socket fails', async () => {
    const stream = new Readable({
      read() {
        this.push('{"status":"Downloading"}\n');
        this.destroy(new Error('socket hang up'));
      },
    });
    await assert.rejects(readProgressStream(stream), /socket hang up/);
  });

  it('destroys the stream after an error line', async () => {
    const stream = Readable.from([errorLine + '\n', '{"status":"more"}\n']);
    await assert.rejects(readProgressStream(stream));
    assert.equal(stream.destroyed, true);
  });

  it('shows followProgress reporting success on an error line', async () => {
    // The reason readProgressStream exists: dockerode passes no error here.
    const docker = new Docker({ socketPath: '/nonexistent' });
    const result = await new Promise<{ err: unknown; output: unknown[] }>((resolve) => {
      docker.modem.followProgress(
        Readable.from([pullLines[0] + '\n' + errorLine + '\n']),
        (err: unknown, output: unknown[]) => resolve({ err, output }),
      );
    });
    assert.equal(result.err, null);
    assert.equal(result.output.length, 2);
  });
});

describe('progress event errors', () => {
  const table: { event: DockerProgressEvent; error: string | undefined }[] = [
    { event: { status: 'Downloading' }, error: undefined },
    { event: { error: 'plain' }, error: 'plain' },
    { event: { errorDetail: { message: 'detailed' }, error: 'plain' }, error: 'detailed' },
    { event: { errorDetail: {} }, error: 'unknown error' },
    { event: { error: '' }, error: 'unknown error' },
  ];
  for (const row of table) {
    it(`returns ${String(row.error)} for ${JSON.stringify(row.event)}`, () => {
      assert.equal(progressEventError(row.event), row.error);
    });
  }
});

describe('pull error classification', () => {
  const table: { message: string; reason: string }[] = [
    {
      message:
        'Head "http://127.0.0.1:5000/v2/test/private/manifests/1.0": no basic auth credentials',
      reason: 'unauthorized',
    },
    { message: 'unauthorized: authentication required', reason: 'unauthorized' },
    {
      message:
        "pull access denied for nope, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      reason: 'unauthorized',
    },
    {
      message:
        'manifest for 127.0.0.1:5000/test/app:nope not found: manifest unknown: manifest unknown',
      reason: 'notFound',
    },
    {
      message:
        'repository 127.0.0.1:5000/nope not found: name unknown: repository name not known to registry',
      reason: 'notFound',
    },
    { message: 'invalid reference format', reason: 'invalidReference' },
    { message: 'received unexpected HTTP status: 500 Internal Server Error', reason: 'pullFailed' },
    { message: 'failed to register layer: no space left on device', reason: 'pullFailed' },
  ];
  for (const row of table) {
    it(`classifies ${row.message.slice(0, 45)}`, () => {
      assert.equal(classifyPullMessage(row.message), row.reason);
    });
  }
});
