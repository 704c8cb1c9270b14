/**
 * Convergence, steady-state and observer-comparison benchmark of the
 * operator against kube-apiserver and a --no-engine dev cloud. Prints the
 * figures and writes them into bench/BENCHMARKS.md (section "convergence").
 *
 *   node dist/bench/convergence.js --sizes 100,1000 --compare 100 --idle 2m
 */
import { readFile, writeFile } from 'node:fs/promises';

import { Command, InvalidArgumentError } from 'commander';
import { parseAllDocuments } from 'yaml';

import { parseDuration } from '../src/cmd/duration.js';
import { runCleanups } from '../test/support/hooks.js';
import { benchmarkInstanceSpec } from './convergence/instance-spec.js';
import { renderReport } from './convergence/report.js';
import { runScenario, type ObserverMode, type ScenarioResult } from './convergence/scenario.js';
import { LoadMeter, machineInfo } from './harness/machine.js';
import { writeSection } from './results-page.js';

interface Options {
  sizes: number[];
  compare: number[];
  idle: number;
  concurrency: number;
  latency: number;
  buildDelay: number;
  pollIntervalActive: string;
  pollIntervalIdle: string;
  readyTimeout: number;
  operatorEnv: Record<string, string>;
  write: boolean;
  json?: string;
}

function sizeList(value: string): number[] {
  const sizes = value
    .split(',')
    .filter((part) => part !== '')
    .map(Number);
  if (sizes.length === 0 || sizes.some((size) => !Number.isInteger(size) || size < 1)) {
    throw new InvalidArgumentError(
      `expected whole numbers >= 1 separated by commas, such as 100,1000. Received: ${value}`,
    );
  }
  return sizes;
}

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new InvalidArgumentError(`expected a whole number >= 0. Received: ${value}`);
  }
  return parsed;
}

function duration(value: string): number {
  if (value.trim() === '0') return 0;
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function environmentVariable(
  value: string,
  previous: Record<string, string>,
): Record<string, string> {
  const equals = value.indexOf('=');
  if (equals < 1) {
    throw new InvalidArgumentError(
      `expected NAME=VALUE, such as NODE_OPTIONS=--max-old-space-size=256. Received: ${value}`,
    );
  }
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}

/** Flags of `run` that select the server observer; bulk is the operator's default. */
function observerArgs(mode: ObserverMode): string[] {
  return mode === 'bulk' ? [] : ['--server-observer', mode];
}

const deploymentPath = new URL('../../manifests/deployment.yaml', import.meta.url);

/**
 * Returns the NODE_OPTIONS of the operator container in the shipped
 * Deployment, so the benchmark measures the operator as it is deployed.
 */
async function deploymentNodeOptions(): Promise<string> {
  const documents = parseAllDocuments(await readFile(deploymentPath, 'utf8'));
  for (const document of documents) {
    const manifest = document.toJS() as {
      kind?: string;
      spec?: {
        template?: {
          spec?: {
            containers?: { name: string; env?: { name: string; value?: string }[] }[];
          };
        };
      };
    };
    if (manifest?.kind !== 'Deployment') continue;
    const operator = manifest.spec?.template?.spec?.containers?.find(
      (container) => container.name === 'operator',
    );
    const value = operator?.env?.find((variable) => variable.name === 'NODE_OPTIONS')?.value;
    if (value !== undefined) return value;
  }
  throw new Error(
    `NODE_OPTIONS of the operator container not found in ${deploymentPath.pathname}; pass --operator-env NODE_OPTIONS=... instead`,
  );
}

async function main(options: Options, commandLine: string): Promise<void> {
  const load = new LoadMeter();
  // An explicit --operator-env NODE_OPTIONS overrides it, and an empty one runs the default heap settings.
  const operatorEnv = {
    NODE_OPTIONS: await deploymentNodeOptions(),
    ...options.operatorEnv,
  };
  const runs: { instances: number; observer: ObserverMode }[] = [
    ...options.sizes.map((instances) => ({ instances, observer: 'bulk' as const })),
  ];
  for (const instances of options.compare) {
    if (!options.sizes.includes(instances)) runs.push({ instances, observer: 'bulk' });
    runs.push({ instances, observer: 'per-instance' });
  }

  const results: ScenarioResult[] = [];
  for (const run of runs) {
    const label = `${run.observer === 'bulk' ? 'bulk' : 'get'}-${run.instances}`;
    console.error(`bench: ${label}: ${run.instances} instances, ${run.observer} observer`);
    const result = await runScenario({
      label,
      instances: run.instances,
      observer: run.observer,
      concurrency: options.concurrency,
      latencyMs: options.latency,
      buildDelayMs: options.buildDelay,
      pollIntervalActive: options.pollIntervalActive,
      pollIntervalIdle: options.pollIntervalIdle,
      idleWindowMs: options.idle,
      readyTimeoutMs: options.readyTimeout,
      operatorEnv,
      instanceSpec: benchmarkInstanceSpec,
      observerArgs,
    });
    console.error(
      `bench: ${label}: all Ready in ${(result.convergence.totalMs / 1000).toFixed(2)} s (T_min ${(result.convergence.theoreticalMinimumMs / 1000).toFixed(2)} s); operator log ${result.operatorLog}`,
    );
    results.push(result);
  }

  const report = renderReport(results, {
    date: new Date().toISOString(),
    command: commandLine,
    operatorNodeOptions: operatorEnv.NODE_OPTIONS,
    machine: machineInfo(),
    load: load.stop(),
  });
  console.log(report);
  if (options.json) {
    await writeFile(options.json, JSON.stringify(results, jsonMaps, 2));
  }
  if (options.write) await writeSection('convergence', report);
}

/** JSON.stringify replacer that writes Maps as objects. */
function jsonMaps(_key: string, value: unknown): unknown {
  return value instanceof Map ? Object.fromEntries(value) : value;
}

const program = new Command()
  .name('convergence')
  .description(
    'Measure how fast the operator converges N ContainerInstances, what it sends to OpenStack and Kubernetes, and what it costs when idle',
  )
  .option(
    '--sizes <list>',
    'instance counts to converge with the bulk observer',
    sizeList,
    [100, 1000],
  )
  .option(
    '--compare <list>',
    'instance counts to also run with a GET per instance (the comparison); empty for none',
    (value: string) => (value === '' ? [] : sizeList(value)),
    [100],
  )
  .option(
    '--idle <duration>',
    'steady-state window after convergence; 0 skips it',
    duration,
    5 * 60_000,
  )
  .option(
    '--concurrency <count>',
    'reconciles the operator runs at once (--concurrency of run)',
    wholeNumber,
    4,
  )
  .option(
    '--latency <ms>',
    'added latency of every OpenStack call, in milliseconds',
    wholeNumber,
    20,
  )
  .option(
    '--build-delay <ms>',
    'time a new server stays in BUILD, in milliseconds',
    wholeNumber,
    2000,
  )
  .option(
    '--poll-interval-active <duration>',
    'operator server listing interval while servers change',
    '5s',
  )
  .option(
    '--poll-interval-idle <duration>',
    'operator server listing interval while all servers are settled',
    '60s',
  )
  .option(
    '--ready-timeout <duration>',
    'give up when not all instances are Ready after this long',
    duration,
    15 * 60_000,
  )
  .option(
    '--operator-env <name=value>',
    'environment variable for the operator process, such as NODE_OPTIONS=--max-old-space-size=256; repeatable. NODE_OPTIONS defaults to the value in manifests/deployment.yaml',
    environmentVariable,
    {},
  )
  .option('--no-write', 'print the figures without updating bench/BENCHMARKS.md')
  .option('--json <file>', 'also write the raw results as JSON to this file');

program.parse();
const commandLine = ['node', 'dist/bench/convergence.js', ...process.argv.slice(2)].join(' ');
try {
  await main(program.opts<Options>(), commandLine);
} catch (err) {
  console.error(`bench: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await runCleanups();
}
