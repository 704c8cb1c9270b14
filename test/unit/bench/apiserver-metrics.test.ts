import assert from 'node:assert/strict';

import {
  attributeCounts,
  parseRequestCounts,
  subtractCounts,
  totalWrites,
} from '../../../bench/harness/apiserver-metrics.js';

const exposition = `# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="novadocker.io",resource="containerinstances",scope="resource",subresource="",verb="POST",version="v1alpha1"} 100
apiserver_request_total{code="409",component="apiserver",dry_run="",group="novadocker.io",resource="containerinstances",scope="resource",subresource="",verb="POST",version="v1alpha1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="novadocker.io",resource="containerinstances",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="coordination.k8s.io",resource="leases",scope="resource",subresource="",verb="PUT",version="v1"} 12
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="",scope="",subresource="/metrics",verb="GET",version=""} 5
apiserver_request_duration_seconds_count{verb="POST",resource="containerinstances"} 99
`;

describe('apiserver request counts', () => {
  it('sums status codes by verb and resource', () => {
    const counts = parseRequestCounts(exposition);
    assert.equal(counts.get('POST containerinstances'), 102);
  });

  it('names subresources after a slash', () => {
    const counts = parseRequestCounts(exposition);
    assert.equal(counts.get('PATCH containerinstances/status'), 7);
  });

  it('leaves out non-resource requests and other metrics', () => {
    const counts = parseRequestCounts(exposition);
    assert.deepEqual([...counts.keys()].sort(), [
      'PATCH containerinstances/status',
      'POST containerinstances',
      'PUT leases',
    ]);
  });

  it('subtracts requests the benchmark sent', () => {
    const before = new Map([['POST containerinstances', 10]]);
    const after = new Map([
      ['POST containerinstances', 120],
      ['PATCH containerinstances/status', 40],
    ]);
    const own = new Map([['POST containerinstances', 100]]);
    const delta = subtractCounts(after, before, new Map(), own);
    assert.equal(delta.get('POST containerinstances'), 10);
    assert.equal(delta.get('PATCH containerinstances/status'), 40);
  });

  it('drops keys that end at zero', () => {
    const delta = subtractCounts(new Map([['GET secrets', 3]]), new Map([['GET secrets', 3]]));
    assert.equal(delta.size, 0);
  });

  it('attributes lease requests to the apiserver', () => {
    const { operator, apiserver } = attributeCounts(parseRequestCounts(exposition));
    assert.equal(apiserver.get('PUT leases'), 12);
    assert.equal(operator.has('PUT leases'), false);
  });

  it('attributes status writes to the operator', () => {
    const { operator } = attributeCounts(parseRequestCounts(exposition));
    assert.equal(operator.get('PATCH containerinstances/status'), 7);
  });

  it('attributes service lists to the apiserver', () => {
    const { apiserver } = attributeCounts(new Map([['LIST services', 1]]));
    assert.equal(apiserver.get('LIST services'), 1);
  });

  it('counts only write verbs as writes', () => {
    const counts = new Map([
      ['GET containerinstances', 50],
      ['LIST secrets', 3],
      ['WATCH containerinstances', 2],
      ['PATCH containerinstances/status', 7],
      ['POST events', 4],
      ['DELETE containerinstances', 1],
    ]);
    assert.equal(totalWrites(counts), 12);
  });
});
