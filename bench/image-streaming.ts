/**
 * Image streaming benchmark: publishes an offline-built image (200 MiB of
 * random data by default) into the dev cloud's Glance through the operator's
 * ImagePublisher, and the same image with a plain `docker save | curl -T -`,
 * in alternating rounds of one run. Prints both throughputs, their ratio and
 * the peak resident memory of the publishing process, and writes them to the
 * `image-streaming` section of bench/BENCHMARKS.md.
 *
 * The publisher runs in a child process so its peak RSS and CPU time are its
 * own, not the harness's. Run it with `make bench` (root, for the harness
 * dockerd), or after `make build`: `node dist/bench/image-streaming.js --help`.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { Command, InvalidArgumentError } from 'commander';
import Docker from 'dockerode';

import { glanceImages } from '../src/images/glance.js';
import { ImagePublisher, type PublishProgress } from '../src/images/publisher.js';
import { createLogger } from '../src/observability/logger.js';
import { loadCloudConfig, openCloud, type OpenStackClient } from '../src/openstack/index.js';
import { devCloudToken, startDevCloud } from '../test/support/devcloud.js';
import { buildTestImage, pushImage, useDocker, useRegistry } from '../test/support/docker.js';
import { runCleanups } from '../test/support/hooks.js';
import { LoadMeter, machineInfo } from './harness/machine.js';
import { table, writeSection } from './results-page.js';

const execFileAsync = promisify(execFile);
const mebibyte = 1024 * 1024;

/** Measurement the publishing child process prints on its stdout. */
interface PublishMeasurement {
  glanceID: string;
  bytes: number;
  /** Seconds from the start of the upload phase (Glance create, save, upload, check) to the end. */
  uploadSeconds: number;
  /** Seconds of the whole publish, including the registry lookup and the (cached) pull. */
  totalSeconds: number;
  /** CPU time (user plus system) of the child during the upload phase, in seconds. */
  uploadCpuSeconds: number;
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
  let uploadCpu = process.cpuUsage();
  const started = performance.now();
  const result = await publisher.publish({
    reference: request.reference,
    command: request.command,
    onProgress: (progress: PublishProgress) => {
      if (progress.phase === 'uploading' && uploadStarted === 0) {
        uploadStarted = performance.now();
        uploadCpu = process.cpuUsage();
      }
    },
  });
  const finished = performance.now();
  const cpu = process.cpuUsage(uploadCpu);
  await client.close();

  const measurement: PublishMeasurement = {
    glanceID: result.glanceID,
    bytes: result.sizeBytes ?? 0,
    uploadSeconds: (finished - uploadStarted) / 1000,
    totalSeconds: (finished - started) / 1000,
    uploadCpuSeconds: (cpu.user + cpu.system) / 1e6,
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

/** Command-line options of the benchmark. */
interface Options {
  sizeMib: number;
  rounds: number;
  write: boolean;
}

interface RoundResult {
  publisher: PublishMeasurement;
  curl: { seconds: number; bytes: number };
}

async function main(options: Options, commandLine: string): Promise<void> {
  const load = new LoadMeter();
  const engine = await useDocker();
  const registry = await useRegistry();
  const cloud = await startDevCloud({ name: 'devcloud-bench' });
  const config = loadCloudConfig({
    cloud: cloud.cloudName,
    env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath },
  });
  const client = openCloud(config);

  const reference = `${registry.host}/bench/streaming:${options.sizeMib}mib`;
  console.error(`bench: building ${reference} with ${options.sizeMib} MiB of random data`);
  await buildTestImage(engine.docker, reference, { sizeBytes: options.sizeMib * mebibyte });
  await pushImage(engine.docker, reference);
  const token = await devCloudToken(cloud);

  const rounds: RoundResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    // A new command per round makes a new (digest, command) pair, so nothing is reused.
    const publisher = await runPublisherChild({
      dockerSocket: engine.socketPath,
      cloudsYamlPath: cloud.cloudsYamlPath,
      cloudName: cloud.cloudName,
      reference,
      command: `sleep ${round}`,
    });
    const curl = await saveWithCurl(client, token, engine.host, reference);
    await client.image.deleteImage(publisher.glanceID);
    await client.image.deleteImage(curl.glanceID);
    rounds.push({ publisher, curl });
    console.error(
      `bench: round ${round}: publisher ${rate(publisher.bytes, publisher.uploadSeconds).toFixed(1)} MiB/s, ` +
        `docker save | curl ${rate(curl.bytes, curl.seconds).toFixed(1)} MiB/s`,
    );
  }
  await client.close();

  const report = renderReport(rounds, options, commandLine, load);
  console.log(report);
  if (options.write) await writeSection('image-streaming', report);
}

function renderReport(
  rounds: RoundResult[],
  options: Options,
  commandLine: string,
  load: LoadMeter,
): string {
  const machine = machineInfo();
  const busy = load.stop();
  const publisherRate = median(
    rounds.map((r) => rate(r.publisher.bytes, r.publisher.uploadSeconds)),
  );
  const curlRate = median(rounds.map((r) => rate(r.curl.bytes, r.curl.seconds)));
  const peakRss = Math.max(...rounds.map((r) => r.publisher.maxRssBytes));
  const archiveMiB = rounds[0]!.publisher.bytes / mebibyte;

  const rows = rounds.map((r, index) => [
    index + 1,
    rate(r.publisher.bytes, r.publisher.uploadSeconds).toFixed(1),
    r.publisher.uploadSeconds.toFixed(2),
    r.publisher.uploadCpuSeconds.toFixed(2),
    (r.publisher.maxRssBytes / mebibyte).toFixed(0),
    rate(r.curl.bytes, r.curl.seconds).toFixed(1),
    r.curl.seconds.toFixed(2),
  ]);
  return [
    `Run ${new Date().toISOString()} with \`${commandLine}\`: ${options.sizeMib} MiB of random data, ` +
      `archive ${archiveMiB.toFixed(1)} MiB, ${options.rounds} rounds.`,
    '',
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, kernel ${machine.kernel}, ` +
      `Node.js ${machine.node}; load average ${busy.loadAverage1m} at the end, ` +
      `${(busy.cpuBusy * 100).toFixed(0)} % of all CPUs busy over the run.`,
    '',
    table(
      [
        'round',
        'publisher MiB/s',
        'publisher upload s',
        'publisher CPU s',
        'publisher peak RSS MiB',
        'docker save \\| curl MiB/s',
        'curl s',
      ],
      rows,
    ),
    '',
    `Medians: publisher ${publisherRate.toFixed(1)} MiB/s, \`docker save | curl -T -\` ${curlRate.toFixed(1)} MiB/s, ` +
      `ratio publisher / curl **${(publisherRate / curlRate).toFixed(2)}**. ` +
      `Peak RSS of the publishing process: **${(peakRss / mebibyte).toFixed(0)} MiB**.`,
  ].join('\n');
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError(`expected a positive integer. Received: ${value}`);
  }
  return parsed;
}

if (process.argv.includes('--publish')) {
  let input = '';
  for await (const chunk of process.stdin) input += (chunk as Buffer).toString('utf8');
  await publishInChild(JSON.parse(input) as ChildRequest);
} else {
  const program = new Command()
    .name('image-streaming')
    .description(
      'Compare publishing an image into the dev cloud Glance through the operator with docker save | curl -T -',
    )
    .option('--size-mib <count>', 'MiB of random data in the test image', positiveInteger, 200)
    .option('--rounds <count>', 'rounds of both methods, alternating', positiveInteger, 3)
    .option('--no-write', 'print the figures without updating bench/BENCHMARKS.md');
  program.parse();
  const commandLine = ['node', 'dist/bench/image-streaming.js', ...process.argv.slice(2)].join(' ');
  try {
    await main(program.opts<Options>(), commandLine);
  } catch (err) {
    console.error(`bench: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  } finally {
    await runCleanups();
  }
}
