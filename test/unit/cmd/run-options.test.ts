import assert from 'node:assert/strict';

import { Command } from 'commander';

import { formatDuration, parseDuration } from '../../../src/cmd/duration.js';
import { addRunOptions, toRunConfig } from '../../../src/cmd/run-options.js';

function parse(args: string[], env: NodeJS.ProcessEnv = {}) {
  const command = addRunOptions(
    new Command('run').exitOverride().configureOutput({ writeErr: () => undefined }),
  );
  command.parse(args, { from: 'user' });
  return toRunConfig(command.opts(), env);
}

describe('run options', () => {
  it('parses durations with units', () => {
    assert.equal(parseDuration('15s'), 15_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('2h'), 7_200_000);
  });

  it('rejects durations without a unit', () => {
    assert.throws(
      () => parseDuration('15'),
      /invalid duration "15": use a number with a unit \(ms, s, m, h\)/,
    );
    assert.throws(() => parseDuration('15 s'), /invalid duration "15 s"/);
    assert.throws(() => parseDuration('abc'), /invalid duration "abc"/);
  });

  it('formats durations back', () => {
    assert.deepEqual([15_000, 500, 60_000, 90_000, 3_600_000].map(formatDuration), [
      '15s',
      '500ms',
      '1m',
      '90s',
      '1h',
    ]);
  });

  it('applies the defaults', () => {
    const config = parse([]);
    assert.equal(config.concurrency, 4);
    assert.equal(config.pollIntervalActiveMs, 5_000);
    assert.equal(config.pollIntervalIdleMs, 60_000);
    assert.equal(config.leaderElect, false);
    assert.equal(config.leaseDurationMs, 15_000);
    assert.equal(config.renewDeadlineMs, 10_000);
    assert.equal(config.retryPeriodMs, 2_000);
    assert.equal(config.shutdownTimeoutMs, 25_000);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.namespace, undefined);
  });

  it('applies the reconciler defaults', () => {
    const config = parse([]);
    assert.equal(config.serverObserver, 'bulk');
    assert.equal(config.recreateErroredServers, true);
    assert.equal(config.erroredServerGraceMs, 300_000);
    assert.equal(config.defaultCloudName, undefined);
  });

  it('parses the reconciler flags', () => {
    const config = parse([
      '--server-observer',
      'per-instance',
      '--no-recreate-errored-servers',
      '--errored-server-grace',
      '30s',
      '--default-cloud-name',
      'prod',
    ]);
    assert.equal(config.serverObserver, 'per-instance');
    assert.equal(config.recreateErroredServers, false);
    assert.equal(config.erroredServerGraceMs, 30_000);
    assert.equal(config.defaultCloudName, 'prod');
  });

  it('applies the image defaults', () => {
    const config = parse([]);
    assert.equal(config.maxConcurrentUploads, 2);
    assert.equal(config.imageGcIntervalMs, 3_600_000);
    assert.equal(config.imageGcGracePeriodMs, 86_400_000);
  });

  it('parses the image flags', () => {
    const config = parse([
      '--max-concurrent-uploads',
      '5',
      '--image-gc-interval',
      '10m',
      '--image-gc-grace-period',
      '2h',
    ]);
    assert.equal(config.maxConcurrentUploads, 5);
    assert.equal(config.imageGcIntervalMs, 600_000);
    assert.equal(config.imageGcGracePeriodMs, 7_200_000);
  });

  it('turns image garbage collection off', () => {
    assert.equal(parse(['--no-image-gc']).imageGcIntervalMs, undefined);
  });

  it('rejects bad image flags', () => {
    assert.throws(
      () => parse(['--max-concurrent-uploads', '0']),
      /invalid --max-concurrent-uploads "0": expected a whole number >= 1/,
    );
    assert.throws(
      () => parse(['--image-gc-grace-period', '0s']),
      /invalid --image-gc-grace-period "0s": must be longer than 0/,
    );
  });

  it('rejects an unknown server observer', () => {
    assert.throws(
      () => parse(['--server-observer', 'sometimes']),
      /Allowed choices are bulk, per-instance/,
    );
  });

  it('parses every flag', () => {
    const config = parse([
      '--namespace',
      'apps',
      '--label-selector',
      'shard=a',
      '--concurrency',
      '8',
      '--poll-interval-active',
      '2s',
      '--poll-interval-idle',
      '2m',
      '--default-cloud-secret',
      'ops/clouds',
      '--default-network',
      'private',
      '--leader-elect',
      '--leader-election-namespace',
      'ops',
      '--leader-election-id',
      'shard-a',
      '--lease-duration',
      '20s',
      '--renew-deadline',
      '15s',
      '--retry-period',
      '3s',
      '--metrics-bind-address',
      '0',
      '--health-probe-bind-address',
      '[::1]:9000',
      '--log-level',
      'debug',
      '--shutdown-timeout',
      '40s',
    ]);
    assert.equal(config.namespace, 'apps');
    assert.equal(config.labelSelector, 'shard=a');
    assert.equal(config.concurrency, 8);
    assert.equal(config.pollIntervalActiveMs, 2_000);
    assert.equal(config.pollIntervalIdleMs, 120_000);
    assert.deepEqual(config.defaultCloudSecret, { namespace: 'ops', name: 'clouds' });
    assert.equal(config.defaultNetwork, 'private');
    assert.equal(config.leaderElectionNamespace, 'ops');
    assert.equal(config.leaderElectionId, 'shard-a');
    assert.equal(config.leaseDurationMs, 20_000);
    assert.equal(config.metricsBindAddress, undefined, '"0" disables the server');
    assert.equal(config.healthProbeBindAddress, '[::1]:9000');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.shutdownTimeoutMs, 40_000);
  });

  it('takes the Lease namespace from POD_NAMESPACE', () => {
    assert.equal(
      parse(['--leader-elect'], { POD_NAMESPACE: 'operators' }).leaderElectionNamespace,
      'operators',
    );
  });

  it('rejects leader election without namespace', () => {
    assert.throws(
      () => parse(['--leader-elect']),
      /--leader-elect needs a namespace for its Lease: pass --leader-election-namespace/,
    );
  });

  it('rejects inconsistent leader election timing', () => {
    assert.throws(
      () =>
        parse([
          '--leader-elect',
          '--leader-election-namespace',
          'ops',
          '--lease-duration',
          '10s',
          '--renew-deadline',
          '10s',
        ]),
      /need --lease-duration > --renew-deadline > 1.1 x --retry-period. Received: 10s, 10s, 2s/,
    );
  });

  it('rejects active poll slower than idle', () => {
    assert.throws(
      () => parse(['--poll-interval-active', '2m']),
      /--poll-interval-active \(2m\) must not be longer than --poll-interval-idle \(1m\)/,
    );
  });

  it('rejects malformed values', () => {
    assert.throws(
      () => parse(['--concurrency', '0']),
      /invalid --concurrency "0": expected a whole number >= 1/,
    );
    assert.throws(
      () => parse(['--default-cloud-secret', 'clouds']),
      /invalid --default-cloud-secret "clouds": expected namespace\/name/,
    );
    assert.throws(
      () => parse(['--metrics-bind-address', 'localhost']),
      /invalid --metrics-bind-address: invalid bind address "localhost"/,
    );
    assert.throws(
      () => parse(['--retry-period', '0s']),
      /invalid --retry-period "0s": must be longer than 0/,
    );
    assert.throws(
      () => parse(['--log-level', 'verbose']),
      /Allowed choices are trace, debug, info, warn, error, fatal/,
    );
  });
});
