import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { devCloudAdmin, startDevCloud } from '../../support/devcloud.js';
import { freePort } from '../../support/process.js';
import { makeStateDir, removeStateDir } from '../../support/state.js';
import { memberSession } from './helpers.js';

const execFileAsync = promisify(execFile);
const mainScript = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../src/main.js',
);

/** Runs the command line and returns its exit code and output; never throws on a non-zero exit. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [mainScript, ...args], {
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('devcloud command line', function () {
  it('states defaults and units in help', async function () {
    const { code, stdout } = await run(['devcloud', '--help']);
    assert.equal(code, 0);
    // Help wraps at the terminal width, so compare with single spaces.
    const help = stdout.replace(/\s+/g, ' ');
    assert.match(help, /--port <port> [^-]*\(default: 8800\)/);
    assert.match(help, /--build-delay <ms> [^-]*milliseconds \(default: 0\)/);
    assert.match(help, /--quota-ram <MiB> [^-]*\(default: 51200/);
    assert.match(help, /--token-lifetime <seconds> [^-]*\(default: 3600\)/);
    assert.match(help, /ds512M \(512 MiB, 1 vCPU\)/);
  });

  it('rejects an invalid port value', async function () {
    const dir = await makeStateDir('dccli');
    const dataDir = path.join(dir, 'never-created');
    try {
      const { code, stderr } = await run(['devcloud', '--port', 'abc', '--data-dir', dataDir]);
      assert.notEqual(code, 0);
      assert.match(stderr, /invalid --port "abc": expected a whole number/);
      await assert.rejects(access(dataDir), 'the data folder was created for a refused start');
    } finally {
      await removeStateDir(dir);
    }
  });

  it('rejects an unreachable Docker socket', async function () {
    const dir = await makeStateDir('dccli');
    try {
      const { code, stdout } = await run([
        'devcloud',
        '--port',
        '0',
        '--data-dir',
        dir,
        '--docker-socket',
        path.join(dir, 'missing.sock'),
      ]);
      assert.equal(code, 1);
      assert.match(
        stdout,
        /cannot reach the Docker Engine at .*missing\.sock.*run with --no-engine/,
      );
      await assert.rejects(
        access(path.join(dir, 'devcloud.json')),
        'devcloud.json written for a failed start',
      );
    } finally {
      await removeStateDir(dir);
    }
  });

  it('serves one port per service', async function () {
    const ports = {
      identity: await freePort(),
      compute: await freePort(),
      image: await freePort(),
      network: await freePort(),
      admin: await freePort(),
    };
    const list = Object.entries(ports)
      .map(([name, port]) => `${name}=${port}`)
      .join(',');
    const cloud = await startDevCloud({ name: 'devcloud-ports', extraArgs: ['--ports', list] });
    try {
      assert.equal(cloud.authUrl, `http://127.0.0.1:${ports.identity}/v3`);
      assert.equal(cloud.endpoints.compute, `http://127.0.0.1:${ports.compute}/v2.1`);
      assert.equal(cloud.endpoints.image, `http://127.0.0.1:${ports.image}`);
      assert.equal(cloud.adminUrl, `http://127.0.0.1:${ports.admin}`);
      const session = await memberSession(cloud);
      assert.equal(session.endpoints.network, `http://127.0.0.1:${ports.network}`);
    } finally {
      await cloud.stop();
    }
  });

  it('reads settings from a config file', async function () {
    const dir = await makeStateDir('dccfg');
    const file = path.join(dir, 'devcloud.yaml');
    // The helper's --port 0 flag must win over the file's port.
    await writeFile(
      file,
      'port: 1\nquotas:\n  instances: 4\nfaults:\n  failingFlavors: [m1.large]\n',
    );
    const cloud = await startDevCloud({ name: 'devcloud-config', extraArgs: ['--config', file] });
    try {
      const quotas = await devCloudAdmin<{ limits: { instances: number; ram: number } }>(
        cloud,
        'GET',
        `/quotas/${cloud.projectId}`,
      );
      assert.equal(quotas.limits.instances, 4);
      assert.equal(quotas.limits.ram, 51200);
      const faults = await devCloudAdmin<{ failingFlavors: string[] }>(cloud, 'GET', '/faults');
      assert.deepEqual(faults.failingFlavors, ['m1.large']);
    } finally {
      await cloud.stop();
      await removeStateDir(dir);
    }
  });
});
