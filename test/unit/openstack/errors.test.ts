import assert from 'node:assert/strict';

import { classifyStatus, parseErrorBody, type ErrorClass } from '../../../src/openstack/errors.js';
import { backoffDelay, defaultRetryPolicy, parseRetryAfter } from '../../../src/openstack/retry.js';

interface BodyCase {
  name: string;
  status: number;
  body: string;
  errorClass: ErrorClass;
  message: string;
}

// Bodies in the shapes each service uses. The integration tests check the
// real Nova, Glance and Neutron responses for 400, 403 quota and 404.
const bodyCases: BodyCase[] = [
  {
    name: 'Nova quota 403',
    status: 403,
    body: '{"forbidden": {"code": 403, "message": "Quota exceeded for ram: Requested 128, but already used 0 of 64 ram"}}',
    errorClass: 'quota',
    message: 'Quota exceeded for ram: Requested 128, but already used 0 of 64 ram',
  },
  {
    name: 'Nova policy 403',
    status: 403,
    body: '{"forbidden": {"code": 403, "message": "Policy doesn\'t allow os_compute_api:servers:create:forced_host to be performed."}}',
    errorClass: 'forbidden',
    message: "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.",
  },
  {
    name: 'Nova legacy overLimit 413',
    status: 413,
    body: '{"overLimit": {"code": 413, "message": "Maximum number of instances exceeded"}}',
    errorClass: 'quota',
    message: 'Maximum number of instances exceeded',
  },
  {
    name: 'Glance storage quota 413 in HTML',
    status: 413,
    body: '<html>\n <head>\n  <title>413 Request Entity Too Large</title>\n </head>\n <body>\n  <h1>413 Request Entity Too Large</h1>\n  The request returned a 413 Request Entity Too Large. Quota exceeded for image_size_total<br /><br />\n </body>\n</html>',
    errorClass: 'quota',
    message:
      '413 Request Entity Too Large The request returned a 413 Request Entity Too Large. Quota exceeded for image_size_total',
  },
  {
    name: 'Neutron OverQuota 409',
    status: 409,
    body: '{"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: [\'port\'].", "detail": ""}}',
    errorClass: 'quota',
    message: "Quota exceeded for resources: ['port'].",
  },
  {
    name: 'Neutron in-use 409',
    status: 409,
    body: '{"NeutronError": {"type": "NetworkInUse", "message": "Unable to complete operation on network n1. There are one or more ports still in use on the network.", "detail": ""}}',
    errorClass: 'conflict',
    message:
      'Unable to complete operation on network n1. There are one or more ports still in use on the network.',
  },
  {
    name: 'Keystone 401',
    status: 401,
    body: '{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}',
    errorClass: 'unauthorized',
    message: 'The request you have made requires authentication.',
  },
  {
    name: 'Glance 404 in plain text',
    status: 404,
    body: '404 Not Found\n\nNo image found with ID 42\n\n   ',
    errorClass: 'notFound',
    message: '404 Not Found No image found with ID 42',
  },
  {
    name: 'proxy 502 without body',
    status: 502,
    body: '',
    errorClass: 'serverError',
    message: '',
  },
  {
    name: 'Nova schema 400 without the echoed body',
    status: 400,
    body: JSON.stringify({
      badRequest: {
        code: 400,
        message:
          "Invalid input for field/attribute server. Value: {'name': 'web', 'metadata': {'DB_PASSWORD': 'pw. {x}'}, 'bogus_field': 1}. Additional properties are not allowed ('bogus_field' was unexpected)",
      },
    }),
    errorClass: 'badRequest',
    message:
      "Invalid input for field/attribute server. Value: [omitted]. Additional properties are not allowed ('bogus_field' was unexpected)",
  },
  {
    name: 'rate limit 429',
    status: 429,
    body: '{"message": "Too Many Requests"}',
    errorClass: 'rateLimited',
    message: 'Too Many Requests',
  },
];

describe('OpenStack error bodies', () => {
  for (const testCase of bodyCases) {
    it(`classifies ${testCase.name}`, () => {
      const parsed = parseErrorBody(testCase.body);

      assert.equal(parsed.message, testCase.message);
      assert.equal(
        classifyStatus(testCase.status, parsed.message, parsed.type),
        testCase.errorClass,
      );
    });
  }
});

describe('OpenStack retry timing', () => {
  it('parses Retry-After seconds', () => {
    assert.equal(parseRetryAfter('2'), 2000);
  });

  it('parses a Retry-After date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now), 5000);
  });

  it('ignores an unreadable Retry-After', () => {
    assert.equal(parseRetryAfter('soon'), undefined);
  });

  it('caps the exponential delay', () => {
    assert.equal(
      backoffDelay(defaultRetryPolicy, 20, undefined, () => 1),
      defaultRetryPolicy.maxDelayMs,
    );
  });

  it('doubles the delay ceiling per retry', () => {
    const ceilings = [0, 1, 2].map((retry) =>
      backoffDelay(defaultRetryPolicy, retry, undefined, () => 1),
    );
    assert.deepEqual(ceilings, [500, 1000, 2000]);
  });

  it('never waits less than Retry-After', () => {
    assert.equal(
      backoffDelay(defaultRetryPolicy, 0, 2000, () => 0),
      2000,
    );
  });
});
