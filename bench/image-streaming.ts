/**
 * Image streaming benchmark: publishes an offline-built image (200 MB by
 * default) into the dev cloud's Glance through the operator's ImagePublisher,
 * and the same image with a plain `docker save | curl -T -`, in alternating
 * rounds of one run. Prints both throughputs, their ratio and the peak
 * resident memory of the publishing process.
 *
 * The publisher runs in a child process so its peak RSS is its own and not
 * the harness's. Run it with `make bench` (root, for the harness dockerd), or
 * after `make build`: `node dist/bench/image-streaming.js`.
 * Environment: BENCH_IMAGE_MB (default 200), BENCH_ROUNDS (default 3).
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import Docker from 'dockerode';

import { glanceImages } from '../src/images/glance.js';
import { ImagePublisher, type PublishProgress } from '../src/images/publisher.js';
import { createLogger } from '../src/observability/logger.js';
import { loadCloudConfig, openCloud, type OpenStackClient } from '../src/openstack/index.js';
import { devCloudToken, startDevCloud } from '../test/support/devcloud.js';
import { buildTestImage, pushImage, useDocker, useRegistry } from '../test/support/docker.js';
import { runCleanups } from '../test/support/hooks.js';

const execFileAsync = promisify(execFile);
const mebibyte = 1024 * 1024;

/** What the publishing child process reports on its stdout. */
interface PublishMeasurement {
  glanceID: string;
  bytes: number;
  /** Seconds from the start of the upload phase (Glance create, save, upload, check) to the end. */
  uploadSeconds: number;
  /** Seconds of the whole publish, including the registry lookup and the (cached) pull. */
  totalSeconds: number;
  /** Peak resident set size of the child process, in bytes. */
  maxRssBytes: number;
}

interface ChildRequest {
  dockerSocket: string;
  cloudsYamlPath: string;
  cloudName: string;
  reference: string;
  command: string;
}

/** Runs inside the child: one publish, then prints a PublishMeasurement as JSON. */
async function publishInChild(request: ChildRequest): Promise<void> {
  const config = loadCloudConfig({
    cloud: request.cloudName,
    env: { OS_CLIENT_CONFIG_FILE: request.cloudsYamlPath },
  });
  const client = openCloud(config);
  const publisher = new ImagePublisher({
    docker: new Docker({ socketPath: request.dockerSocket }),
    glance: glanceImages(client),
    logger: createLogger({ level: 'warn', name: 'bench-publisher' }, process.stderr),
    // The image stays in the engine, so every round measures streaming, not pulling.
    pruneLocalImages: false,
  });

  let uploadStarted = 0;
  const started = performance.now();
  const result = await publisher.publish({
    reference: request.reference,
    command: request.command,
    onProgress: (progress: PublishProgress) => {
      if (progress.phase === 'uploading' && uploadStarted === 0) uploadStarted = performance.now();
    },
  });
  const finished = performance.now();
  await client.close();

  const measurement: PublishMeasurement = {
    glanceID: result.glanceID,
    bytes: result.sizeBytes ?? 0,
    uploadSeconds: (finished - uploadStarted) / 1000,
    totalSeconds: (finished - started) / 1000,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(JSON.stringify(measurement) + '\n');
}

async function runPublisherChild(request: ChildRequest): Promise<PublishMeasurement> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--publish'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(JSON.stringify(request));
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`publishing child exited with ${code}; its log is above`);
  return JSON.parse(output.trim().split('\n').at(-1)!) as PublishMeasurement;
}

/** Uploads `docker save` output with curl into a new Glance image; returns seconds and bytes. */
async function saveWithCurl(
  client: OpenStackClient,
  token: string,
  dockerHost: string,
  reference: string,
): Promise<{ glanceID: string; seconds: number; bytes: number }> {
  const image = await client.image.createImage({
    name: reference,
    containerFormat: 'docker',
    diskFormat: 'raw',
    visibility: 'private',
  });
  const url = `${await client.session.endpoint('image')}/images/${image.id}/file`;

  // The token goes in through the environment so it never shows in a process listing.
  const script =
    'set -o pipefail; docker save "$REF" | curl -sS -f -T - ' +
    '-H "X-Auth-Token: $OS_TOKEN" -H "Content-Type: application/octet-stream" "$URL"';
  const started = performance.now();
  await execFileAsync('bash', ['-c', script], {
    env: { ...process.env, DOCKER_HOST: dockerHost, REF: reference, URL: url, OS_TOKEN: token },
  });
  const seconds = (performance.now() - started) / 1000;

  const stored = await client.image.getImage(image.id);
  if (stored.status !== 'active')
    throw new Error(`curl upload left image ${image.id} ${stored.status}`);
  return { glanceID: image.id, seconds, bytes: stored.size ?? 0 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function rate(bytes: number, seconds: number): number {
  return bytes / mebibyte / seconds;
}

async function main(): Promise<void> {
  const imageMiB = Number(process.env.BENCH_IMAGE_MB ?? 200);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  if (!(imageMiB > 0) || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error(
      `BENCH_IMAGE_MB must be positive and BENCH_ROUNDS a positive integer. Received: ${imageMiB}, ${rounds}`,
    );
  }

  const engine = await useDocker();
  const registry = await useRegistry();
  const cloud = await startDevCloud({ name: 'devcloud-bench' });
  const config = loadCloudConfig({
    cloud: cloud.cloudName,
    env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath },
  });
  const client = openCloud(config);

  const reference = `${registry.host}/bench/streaming:${imageMiB}mb`;
  console.log(`building ${reference} with ${imageMiB} MiB of random data`);
  await buildTestImage(engine.docker, reference, { sizeBytes: imageMiB * mebibyte });
  await pushImage(engine.docker, reference);
  const token = await devCloudToken(cloud);

  const ours: PublishMeasurement[] = [];
  const curl: { seconds: number; bytes: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    // A new command per round makes a new (digest, command) pair, so nothing is reused.
    const published = await runPublisherChild({
      dockerSocket: engine.socketPath,
      cloudsYamlPath: cloud.cloudsYamlPath,
      cloudName: cloud.cloudName,
      reference,
      command: `sleep ${round}`,
    });
    const baseline = await saveWithCurl(client, token, engine.host, reference);
    ours.push(published);
    curl.push(baseline);
    await client.image.deleteImage(published.glanceID);
    await client.image.deleteImage(baseline.glanceID);

    console.log(
      `round ${round}: publisher ${rate(published.bytes, published.uploadSeconds).toFixed(1)} MiB/s ` +
        `(${published.uploadSeconds.toFixed(2)} s upload, ${published.totalSeconds.toFixed(2)} s total, ` +
        `peak RSS ${(published.maxRssBytes / mebibyte).toFixed(0)} MiB); ` +
        `docker save | curl ${rate(baseline.bytes, baseline.seconds).toFixed(1)} MiB/s (${baseline.seconds.toFixed(2)} s)`,
    );
  }

  const oursRate = median(ours.map((m) => rate(m.bytes, m.uploadSeconds)));
  const curlRate = median(curl.map((m) => rate(m.bytes, m.seconds)));
  const peakRss = Math.max(...ours.map((m) => m.maxRssBytes));
  console.log('');
  console.log(
    `image streaming, ${imageMiB} MiB image, archive ${(ours[0]!.bytes / mebibyte).toFixed(1)} MiB, ${rounds} rounds (medians):`,
  );
  console.log(`  publisher (docker save -> Glance upload): ${oursRate.toFixed(1)} MiB/s`);
  console.log(`  docker save | curl -T -:                  ${curlRate.toFixed(1)} MiB/s`);
  console.log(`  throughput ratio publisher / curl:        ${(oursRate / curlRate).toFixed(2)}`);
  console.log(`  peak RSS of the publishing process:       ${(peakRss / mebibyte).toFixed(0)} MiB`);

  await client.close();
}

if (process.argv.includes('--publish')) {
  let input = '';
  for await (const chunk of process.stdin) input += (chunk as Buffer).toString('utf8');
  await publishInChild(JSON.parse(input) as ChildRequest);
} else {
  try {
    await main();
  } finally {
    await runCleanups();
  }
}
