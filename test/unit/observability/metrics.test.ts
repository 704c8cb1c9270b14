import assert from 'node:assert/strict';

import { OperatorMetrics } from '../../../src/observability/metrics.js';
import { openStackRequestObserver } from '../../../src/observability/openstack-metrics.js';

describe('operator metrics', () => {
  it('counts OpenStack requests by service, method and code', async () => {
    const metrics = new OperatorMetrics({ processMetrics: false });
    const observe = openStackRequestObserver(metrics);

    observe({
      service: 'compute',
      method: 'get',
      route: '/servers/detail',
      status: 200,
      durationMs: 120,
      requestId: 'req-1',
    });
    observe({
      service: 'compute',
      method: 'GET',
      route: '/servers/detail',
      status: 200,
      durationMs: 80,
      requestId: 'req-2',
    });
    observe({
      service: 'image',
      method: 'PUT',
      route: '/v2/images/{id}/file',
      durationMs: 5000,
      error: 'connection',
    });

    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /novadocker_openstack_requests_total\{service="compute",method="GET",code="200"\} 2/,
    );
    assert.match(
      text,
      /novadocker_openstack_requests_total\{service="image",method="PUT",code="error"\} 1/,
    );
    assert.match(
      text,
      /novadocker_openstack_request_duration_seconds_sum\{service="compute",method="GET",code="200"\} 0.2/,
    );
  });

  it('counts instances by phase on scrape', async () => {
    const metrics = new OperatorMetrics({ processMetrics: false });
    let phases = new Map([
      ['Running', 3],
      ['Failed', 1],
    ]);
    metrics.setInstancePhaseSource(() => phases);
    assert.match(await metrics.registry.metrics(), /novadocker_instances\{phase="Running"\} 3/);

    phases = new Map([['Running', 4]]);
    const text = await metrics.registry.metrics();
    assert.match(text, /novadocker_instances\{phase="Running"\} 4/);
    assert.doesNotMatch(text, /phase="Failed"/, 'a phase with no instances disappears');
  });

  it('records reconciles, uploads and leadership', async () => {
    const metrics = new OperatorMetrics({ processMetrics: false });
    metrics.observeReconcile('containerinstance', 'success', 0.3);
    metrics.countImageBytesUploaded(1024);
    metrics.countImageBytesUploaded(-5);
    metrics.setLeader('nova-docker-operator', true);

    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /novadocker_reconcile_total\{controller="containerinstance",result="success"\} 1/,
    );
    assert.match(text, /novadocker_image_upload_bytes_total 1024/);
    assert.match(text, /leader_election_master_status\{name="nova-docker-operator"\} 1/);
  });
});
