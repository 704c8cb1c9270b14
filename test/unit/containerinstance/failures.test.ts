import assert from 'node:assert/strict';

import {
  classifyError,
  ReconcileFailure,
  type FailureKind,
} from '../../../src/containerinstance/failures.js';
import {
  CloudConfigError,
  OpenStackError,
  OpenStackLookupError,
  type ErrorClass,
} from '../../../src/openstack/index.js';

function openStackError(
  errorClass: ErrorClass,
  extra: Partial<{ retryAfterMs: number; requestId: string }> = {},
) {
  return new OpenStackError({
    service: 'compute',
    method: 'POST',
    path: '/servers',
    status: 400,
    message: 'example',
    errorClass,
    ...extra,
  });
}

/** An error in the shape the image publisher throws. */
class ImagePublishError extends Error {
  override readonly name = 'ImagePublishError';
  constructor(
    readonly reason: string,
    readonly transient: boolean,
    message: string,
  ) {
    super(message);
  }
}

describe('failure classification', () => {
  const classes: Array<[ErrorClass, FailureKind, string]> = [
    ['quota', 'transient', 'QuotaExceeded'],
    ['rateLimited', 'transient', 'RateLimited'],
    ['network', 'transient', 'OpenStackUnavailable'],
    ['serverError', 'transient', 'OpenStackUnavailable'],
    ['conflict', 'transient', 'ServerBusy'],
    ['notFound', 'transient', 'NotFound'],
    ['unauthorized', 'stalled', 'AuthenticationFailed'],
    ['forbidden', 'stalled', 'Forbidden'],
    ['badRequest', 'stalled', 'InvalidRequest'],
  ];
  for (const [errorClass, kind, reason] of classes) {
    it(`classifies ${errorClass} as ${kind} ${reason}`, () => {
      const failure = classifyError(openStackError(errorClass), 'create server');
      assert.equal(failure.kind, kind);
      assert.equal(failure.reason, reason);
    });
  }

  it('names the action in OpenStack failures', () => {
    assert.match(
      classifyError(openStackError('badRequest'), 'create server').message,
      /^create server failed: /,
    );
  });

  it('keeps Retry-After', () => {
    assert.equal(
      classifyError(openStackError('rateLimited', { retryAfterMs: 7000 }), 'x').retryAfterMs,
      7000,
    );
  });

  it('keeps the request ID', () => {
    assert.equal(
      classifyError(openStackError('serverError', { requestId: 'req-1' }), 'x').requestID,
      'req-1',
    );
  });

  it('stalls an unknown flavor with its lookup message', () => {
    const lookup = new OpenStackLookupError({
      service: 'compute',
      path: '/flavors/detail',
      resource: 'flavor',
      reference: 'm1.huge',
      available: ['m1.small'],
      cloud: 'prod',
    });
    const failure = classifyError(lookup, 'resolve placement');
    assert.equal(failure.kind, 'stalled');
    assert.equal(failure.reason, 'FlavorNotFound');
    assert.match(
      failure.message,
      /flavor "m1\.huge" not found in cloud "prod"; use one of: m1\.small/,
    );
  });

  it('stalls an ambiguous network name', () => {
    const lookup = new OpenStackLookupError({
      service: 'network',
      path: '/v2.0/networks',
      resource: 'network',
      reference: 'shared',
      available: [],
      matches: ['a', 'b'],
      cloud: 'prod',
    });
    assert.equal(classifyError(lookup, 'x').reason, 'AmbiguousName');
  });

  it('stalls an invalid clouds.yaml', () => {
    const failure = classifyError(
      new CloudConfigError('Secret a/b', 'prod', 'auth', 'is missing'),
      'x',
    );
    assert.equal(failure.kind, 'stalled');
    assert.equal(failure.reason, 'InvalidCloudConfig');
  });

  it('retries a transient publish failure', () => {
    const failure = classifyError(
      new ImagePublishError('registryUnavailable', true, 'registry down'),
      'x',
    );
    assert.equal(failure.kind, 'transient');
    assert.equal(failure.reason, 'RegistryUnavailable');
  });

  it('stalls a publish failure that needs a spec change', () => {
    const failure = classifyError(new ImagePublishError('notFound', false, 'no such tag'), 'x');
    assert.equal(failure.kind, 'stalled');
    assert.equal(failure.reason, 'ImageNotFound');
  });

  it('retries any other error', () => {
    const failure = classifyError(new Error('boom'), 'write status');
    assert.equal(failure.kind, 'transient');
    assert.equal(failure.message, 'write status failed: boom');
  });

  it('passes a classified failure through', () => {
    const failure = new ReconcileFailure('stalled', 'DuplicateServers', 'two servers');
    assert.equal(classifyError(failure, 'x'), failure);
  });
});
