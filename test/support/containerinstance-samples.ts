import { API_VERSION, KIND } from '../../src/api/constants.js';
import type { ContainerInstance } from '../../src/api/types.js';

/**
 * Returns a ContainerInstance, typed against src/api/types.ts, that sets every
 * field of the schema in spec and status. A unit test walks the schema and
 * fails when a property is missing here, which keeps types and schema in step.
 */
export function fullContainerInstance(): ContainerInstance {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: 'web',
      namespace: 'team-a',
      uid: '0f6a1c2e-5b7d-4e3f-9a8b-1c2d3e4f5a6b',
      generation: 3,
    },
    spec: {
      image: `registry.example.com:5000/team/web:1.4.2@sha256:${'0f'.repeat(32)}`,
      command: ['/usr/local/bin/web', '--listen', ':8080'],
      env: [
        { name: 'LOG_LEVEL', value: 'info' },
        {
          name: 'DATABASE_PASSWORD',
          valueFrom: { secretKeyRef: { name: 'web-credentials', key: 'database-password' } },
        },
      ],
      flavor: 'm1.small',
      networks: [
        { name: 'private' },
        { id: '2f4e8c1a-7d3b-4e59-9a61-0c8b5d2e7f13' },
        { port: '9b7c6d5e-4f3a-4b2c-8d1e-0f9a8b7c6d5e' },
      ],
      securityGroups: ['default', 'web'],
      keyName: 'ops',
      availabilityZone: 'nova',
      powerState: 'Running',
      imagePullSecrets: [{ name: 'team-registry' }],
      cloud: { secretName: 'team-cloud', cloudName: 'openstack' },
      deletionPolicy: 'Orphan',
      tags: ['team-web', 'env-staging'],
    },
    status: {
      observedGeneration: 3,
      phase: 'Running',
      serverID: '6f1c0d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f',
      image: {
        glanceID: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
        digest: `sha256:${'0f'.repeat(32)}`,
      },
      addresses: [{ network: 'private', ip: '10.0.0.12', version: 4 }],
      powerState: 'Running',
      fault: { code: 500, message: 'No valid host was found.', time: '2025-01-02T03:04:05Z' },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          observedGeneration: 3,
          lastTransitionTime: '2025-01-02T03:04:05Z',
          reason: 'ServerActive',
          message: 'server 6f1c0d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f is ACTIVE',
        },
      ],
    },
  };
}
