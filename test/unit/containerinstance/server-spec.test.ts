import assert from 'node:assert/strict';

import {
  MANAGED_TAG,
  type ContainerInstance,
  type ContainerInstanceSpec,
} from '../../../src/api/index.js';
import {
  changedMetadataKeys,
  desiredTags,
  placementFingerprint,
  placementTag,
  sameMetadata,
  sameTags,
  serverName,
  serverPlacement,
} from '../../../src/containerinstance/server-spec.js';
import { toServer } from '../../../src/openstack/compute-types.js';

const uid = '3f2b6c1e-8d4a-4b5e-9f60-1a2b3c4d5e6f';

function instance(spec: Partial<ContainerInstanceSpec> = {}): ContainerInstance {
  return {
    apiVersion: 'novadocker.io/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name: 'web', namespace: 'team-a', uid },
    spec: { image: 'nginx:1.27', flavor: 'm1.small', ...spec },
  };
}

describe('server spec', () => {
  describe('placementFingerprint', () => {
    it('changes with the flavor', () => {
      assert.notEqual(
        placementFingerprint(instance()),
        placementFingerprint(instance({ flavor: 'm1.large' })),
      );
    });

    it('changes with the networks', () => {
      assert.notEqual(
        placementFingerprint(instance()),
        placementFingerprint(instance({ networks: [{ name: 'private' }] })),
      );
    });

    it('changes with the key pair', () => {
      assert.notEqual(
        placementFingerprint(instance()),
        placementFingerprint(instance({ keyName: 'ops' })),
      );
    });

    it('ignores the order of security groups', () => {
      assert.equal(
        placementFingerprint(instance({ securityGroups: ['web', 'default'] })),
        placementFingerprint(instance({ securityGroups: ['default', 'web'] })),
      );
    });

    it('ignores the image, env and power state', () => {
      assert.equal(
        placementFingerprint(instance()),
        placementFingerprint(
          instance({
            image: 'nginx:1.28',
            env: [{ name: 'A', value: 'b' }],
            powerState: 'Stopped',
          }),
        ),
      );
    });

    it('is 16 hexadecimal digits', () => {
      assert.match(placementFingerprint(instance()), /^[0-9a-f]{16}$/);
    });
  });

  describe('desiredTags', () => {
    it('starts with the managed, instance and placement tags', () => {
      const tags = desiredTags(instance({ tags: ['team-web'] }));
      assert.deepEqual(tags, [
        MANAGED_TAG,
        `cinst-${uid}`,
        placementTag(placementFingerprint(instance())),
        'team-web',
      ]);
    });

    it('keeps every tag within Nova limits', () => {
      for (const tag of desiredTags(instance())) assert.ok(tag.length <= 60, tag);
    });

    it('rejects an instance without UID', () => {
      const noUid = instance();
      delete noUid.metadata.uid;
      assert.throws(() => desiredTags(noUid), /empty metadata\.uid/);
    });
  });

  describe('serverPlacement', () => {
    it('reads the fingerprint from the tags', () => {
      const server = toServer({
        id: 'a',
        status: 'ACTIVE',
        tags: [MANAGED_TAG, placementTag('0123456789abcdef')],
      });
      assert.equal(serverPlacement(server), '0123456789abcdef');
    });

    it('returns undefined without a placement tag', () => {
      assert.equal(
        serverPlacement(toServer({ id: 'a', status: 'ACTIVE', tags: [MANAGED_TAG] })),
        undefined,
      );
    });
  });

  describe('sameTags', () => {
    it('ignores order', () => {
      assert.equal(sameTags(['a', 'b'], ['b', 'a']), true);
    });

    it('notices a missing tag', () => {
      assert.equal(sameTags(['a', 'b'], ['a']), false);
    });
  });

  describe('metadata comparison', () => {
    it('treats equal maps as same', () => {
      assert.equal(sameMetadata({ A: '1', B: '2' }, { B: '2', A: '1' }), true);
    });

    it('notices a changed value', () => {
      assert.equal(sameMetadata({ A: '1' }, { A: '2' }), false);
    });

    it('notices an extra key', () => {
      assert.equal(sameMetadata({ A: '1', B: '2' }, { A: '1' }), false);
    });

    it('lists added, removed and changed keys', () => {
      assert.deepEqual(
        changedMetadataKeys({ A: '1', B: '2', C: '3' }, { A: '1', B: 'x', D: '4' }),
        ['B', 'C', 'D'],
      );
    });
  });

  describe('serverName', () => {
    it('joins namespace and name', () => {
      assert.equal(serverName(instance()), 'team-a-web');
    });

    it('cuts at 255 characters', () => {
      const long = instance();
      long.metadata.name = 'x'.repeat(300);
      assert.equal(serverName(long).length, 255);
    });
  });
});
