/**
 * The machine's real OpenStack test cloud for tests tagged `@openstack`:
 * Keystone, Glance, Placement, Nova (fake compute driver, microversions up to
 * 2.93) and Neutron from Debian's packages, run by test/cloud/cloud.sh on
 * their usual fixed ports of 127.0.0.1.
 *
 * One such cloud serves every worktree on the machine. Each run that uses it
 * holds a lease (its PID); a cloud that test runs started stops when the last
 * lease is released, and one started with `make cloud-up` keeps running.
 * Tests share its projects with parallel runs, so they name what they create
 * uniquely and never assume a list holds only their own servers.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { parse } from 'yaml';

import { registerCleanup } from './hooks.js';
import { repoRoot } from './host-packages.js';
import type { PasswordCredentials } from './openstack-http.js';

/** What a test needs to reach the test cloud; written by test/cloud/cloud_fixtures.py. */
export interface TestCloud {
  /** clouds.yaml holding the three clouds below. It contains passwords: never log its contents. */
  cloudsYamlPath: string;
  /** The operator's cloud: a non-admin user with the member role in its own project. */
  cloudName: string;
  /** The admin user of the admin project, for fixtures and quota changes, never for the code under test. */
  adminCloudName: string;
  /**
   * A member user in a second project whose RAM quota (quotaProjectRamMb) is
   * below every flavor, so any server create there is refused with 403
   * "Quota exceeded for ram". Tests that need other limits change that
   * project's quota with adminCloudName (PUT /os-quota-sets/{quotaProjectId}).
   */
  quotaProjectCloudName: string;
  quotaProjectRamMb: number;
  quotaProjectId: string;
  /** Keystone v3, e.g. http://127.0.0.1:5000/v3. */
  authUrl: string;
  regionName: string;
  /** The project of cloudName. */
  projectId: string;
  /**
   * Flavor names, each also its ID. `unschedulable` requires a trait no host
   * has, so a server with it goes to ERROR with fault "No valid host was found".
   */
  flavors: { tiny: string; small: string; unschedulable: string };
  /** A network of the operator's project; ports on it bind without any agent. */
  networkName: 'test-net';
  /** The one compute host (fake driver). */
  computeHost: string;
}

/** Set NOVA_DOCKER_SKIP_OPENSTACK=1 to skip the @openstack tests without trying to start the cloud. */
const skipVariable = 'NOVA_DOCKER_SKIP_OPENSTACK';
const cloudScript = join(repoRoot, 'test/cloud/cloud.sh');
/** cloud.sh exits with this status when the cloud cannot run on this machine. */
const UNAVAILABLE = 3;
/** Installing the packages on a fresh machine takes a few minutes; a start from the snapshot, seconds. */
const START_TIMEOUT_MS = 20 * 60_000;

type Outcome = { cloud: TestCloud } | { skipReason: string };

let pending: Promise<Outcome> | undefined;
let skipPrinted = false;

/**
 * Returns the test cloud, starting it (and installing its packages) on the
 * first call of the run. When the cloud cannot run here, prints one line
 * saying why and skips the calling test or hook through ctx.skip(). A start
 * that fails for another reason rejects with the script's last output lines.
 */
export async function useOpenStack(ctx: Mocha.Context): Promise<TestCloud> {
  ctx.timeout(START_TIMEOUT_MS);
  pending ??= bringUp();
  const outcome = await pending;
  if ('skipReason' in outcome) {
    if (!skipPrinted) {
      skipPrinted = true;
      console.log(`  skipping the @openstack tests: ${outcome.skipReason}`);
    }
    ctx.skip();
  }
  return outcome.cloud;
}

/**
 * Reads the password credentials of one cloud of the test cloud's
 * clouds.yaml, for test/support/openstack-http.ts. Throws naming the cloud
 * when clouds.yaml does not have it.
 */
export async function testCloudCredentials(
  cloud: TestCloud,
  cloudName: string,
): Promise<PasswordCredentials> {
  const document = parse(await readFile(cloud.cloudsYamlPath, 'utf8')) as {
    clouds?: Record<string, { auth: Record<string, string>; region_name?: string }>;
  };
  const entry = document.clouds?.[cloudName];
  if (!entry) throw new Error(`cloud "${cloudName}" is not in ${cloud.cloudsYamlPath}`);
  return {
    authUrl: entry.auth.auth_url!,
    username: entry.auth.username!,
    password: entry.auth.password!,
    projectName: entry.auth.project_name!,
    userDomainName: entry.auth.user_domain_name,
    projectDomainName: entry.auth.project_domain_name,
    region: entry.region_name,
  };
}

async function bringUp(): Promise<Outcome> {
  if (process.env[skipVariable] === '1') return { skipReason: `${skipVariable}=1 is set` };

  const started = Date.now();
  const result = await runScript(['start', '--lease', String(process.pid)], START_TIMEOUT_MS);
  if (result.code === UNAVAILABLE) {
    const reason = lastLine(result.stderr).replace(/^openstack-cloud: unavailable: /, '');
    return { skipReason: reason };
  }
  if (result.code !== 0) {
    throw new Error(
      `test/cloud/cloud.sh start failed with exit status ${result.code}:\n` +
        result.stderr.trimEnd().split('\n').slice(-25).join('\n'),
    );
  }

  // From here on this run holds a lease, which the root afterAll hook releases.
  registerCleanup('OpenStack test cloud lease', releaseLease);
  const { state, testCloudJson } = JSON.parse(lastLine(result.stdout)) as {
    state: 'started' | 'running';
    testCloudJson: string;
  };
  if (state === 'started') {
    const seconds = Math.round((Date.now() - started) / 1000);
    console.log(`  started the OpenStack test cloud in ${seconds} s`);
  }
  const cloud = JSON.parse(await readFile(testCloudJson, 'utf8')) as TestCloud;
  return { cloud };
}

async function releaseLease(): Promise<void> {
  const result = await runScript(['release', String(process.pid)], 110_000);
  if (result.code !== 0)
    throw new Error(
      `test/cloud/cloud.sh release failed with exit status ${result.code}: ${result.stderr.trim()}`,
    );
}

function runScript(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cloudScript,
      args,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        // A timeout or signal leaves err.code unset; count it as a failure.
        const code = typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr: stderr || String(err) });
      },
    );
  });
}

function lastLine(text: string): string {
  return text.trimEnd().split('\n').pop() ?? '';
}
