/**
 * How test/cloud/cloud.sh shares the one test cloud between parallel test
 * runs: leases, an idempotent start, and a stop that will not pull the
 * cloud from under a run. These tests never stop the cloud, because other
 * worktrees may be using it; `bench/openstack-cloud.sh` covers stop and
 * start cycles.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { repoRoot } from '../support/host-packages.js';
import { useOpenStack } from '../support/openstack.js';
import { makeStateDir, removeStateDir } from '../support/state.js';

const cloudScript = join(repoRoot, 'test/cloud/cloud.sh');

function cloudSh(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cloudShIn(undefined, ...args);
}

/** Runs cloud.sh with NOVA_DOCKER_OPENSTACK_DIR set to stateDir (when given). */
function cloudShIn(
  stateDir: string | undefined,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  if (stateDir) env.NOVA_DOCKER_OPENSTACK_DIR = stateDir;
  return new Promise((resolve) => {
    execFile(cloudScript, args, { timeout: 120_000, env }, (err, stdout, stderr) => {
      let code = 0;
      if (err) code = typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a process that only waits, to stand in for another test run's PID. */
async function otherRun(): Promise<ChildProcess> {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return child;
}

async function endRun(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

function leaseLine(status: string): string {
  return status.split('\n').find((line) => line.includes('holding a lease')) ?? '';
}

describe('OpenStack test cloud sharing @openstack', function () {
  this.timeout(120_000);
  const children: ChildProcess[] = [];

  before(async function () {
    await useOpenStack(this);
  });

  after(async function () {
    for (const child of children) {
      await cloudSh('release', String(child.pid));
      await endRun(child);
    }
  });

  it('start reuses the running cloud', async function () {
    const run = await otherRun();
    children.push(run);

    const result = await cloudSh('start', '--lease', String(run.pid));
    const status = await cloudSh('status');

    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).state, 'running');
    assert.match(leaseLine(status.stdout), new RegExp(`\\b${run.pid}\\b`));
  });

  it('stop rejects while runs hold leases', async function () {
    const result = await cloudSh('stop');
    const status = await cloudSh('status');

    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`test runs with PIDs .*\\b${process.pid}\\b`));
    assert.match(result.stderr, /--force/);
    assert.equal(status.code, 0, status.stdout);
  });

  it('stop when unused waits for leases', async function () {
    const before = await cloudSh('status');
    const startedByHand = before.stdout.includes('started by make cloud-up');

    const result = await cloudSh('stop', '--when-unused');
    const status = await cloudSh('status');
    // Give a cloud started with make cloud-up back to its developer.
    if (startedByHand) await cloudSh('start');

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /it stops when the last of them ends/);
    assert.equal(status.code, 0, status.stdout);
    assert.match(status.stdout, /started by a test run/);
  });

  it('release keeps the cloud for other runs', async function () {
    const run = await otherRun();
    children.push(run);
    const started = await cloudSh('start', '--lease', String(run.pid));
    assert.equal(started.code, 0, started.stderr);

    const released = await cloudSh('release', String(run.pid));
    const status = await cloudSh('status');

    assert.equal(released.code, 0, released.stderr);
    assert.equal(status.code, 0, status.stdout);
    assert.doesNotMatch(leaseLine(status.stdout), new RegExp(`\\b${run.pid}\\b`));
    assert.match(leaseLine(status.stdout), new RegExp(`\\b${process.pid}\\b`));
  });

  it('status drops an exited run', async function () {
    const run = await otherRun();
    children.push(run);
    const started = await cloudSh('start', '--lease', String(run.pid));
    assert.equal(started.code, 0, started.stderr);

    await endRun(run);
    const status = await cloudSh('status');

    assert.equal(status.code, 0, status.stdout);
    assert.doesNotMatch(leaseLine(status.stdout), new RegExp(`\\b${run.pid}\\b`));
  });

  it('start rejects a lease for no process', async function () {
    // PIDs on Linux stay below 2^22, so this one cannot exist.
    const missing = String(2 ** 22 + 1);

    const result = await cloudSh('start', '--lease', missing);
    const status = await cloudSh('status');

    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`no process ${missing} to hold a lease`));
    assert.doesNotMatch(leaseLine(status.stdout), new RegExp(`\\b${missing}\\b`));
    assert.equal(status.code, 0, status.stdout);
  });

  it('start rejects ports another cloud uses', async function () {
    // A second state folder on the same machine: the running cloud already
    // listens on every fixed port, so this start must stop before it starts anything.
    const stateDir = await makeStateDir('os2');
    try {
      const result = await cloudShIn(stateDir, 'start');
      const runFiles = await readdir(join(stateDir, 'run')).catch(() => []);
      const ps = await new Promise<string>((resolve) =>
        execFile('ps', ['-eo', 'args'], (_err, stdout) => resolve(stdout)),
      );

      assert.equal(result.code, 1);
      assert.match(result.stderr, /port 5000 on this machine is already in use/);
      assert.deepEqual(runFiles, []);
      assert.ok(!ps.includes(stateDir), `a process runs from ${stateDir}`);
    } finally {
      await removeStateDir(stateDir);
    }
  });
});
