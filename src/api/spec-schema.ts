import { isRecord, mirroredRule, transitionRule } from './cel.js';
import { INSTANCE_TAG_PREFIX, MANAGED_TAG } from './constants.js';
import {
  hasValidDigest,
  IMAGE_DIGEST_SUFFIX_PATTERN,
  IMAGE_REFERENCE_MAX_LENGTH,
  IMAGE_REFERENCE_PATTERN,
  isImageReference,
} from './image-reference.js';
import { arrayProp, objectProp, stringProp, type JSONSchemaProps } from './openapi.js';
import { DELETION_POLICIES, POWER_STATES } from './types.js';

/** Pattern of a Kubernetes object name (RFC 1123 DNS subdomain). */
export const DNS_SUBDOMAIN_PATTERN =
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** Pattern of a Secret data key. */
export const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';

/** Pattern of an environment variable name accepted in `spec.env[].name`. */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

/** Pattern of a UUID as Neutron prints it. */
export const UUID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** Pattern of a Nova server tag: no slash and no comma (compute API 2.26). */
export const TAG_PATTERN = '^[^,/]+$';

/**
 * Limits of `spec.env`. Nova-Docker passes server metadata to the container as
 * its environment, and Nova caps metadata keys and values at 255 characters and
 * the number of items by quota (128 by default), so these stay below both.
 */
export const ENV_MAX_ITEMS = 100;
export const ENV_MAX_LENGTH = 255;

/** Nova accepts 50 tags per server; the operator keeps room for its own two. */
export const TAGS_MAX_ITEMS = 20;
/** Nova's limit on the length of one server tag. */
export const TAG_MAX_LENGTH = 60;

// NOTE: the command limits are this operator's choice, not a documented Glance
// limit; the command is stored as one Glance image property.
export const COMMAND_MAX_ITEMS = 64;
export const COMMAND_ARG_MAX_LENGTH = 1024;

/** Upper bounds on list sizes that keep the apiserver's CEL cost estimate finite. */
export const NETWORKS_MAX_ITEMS = 16;
export const SECURITY_GROUPS_MAX_ITEMS = 32;
export const IMAGE_PULL_SECRETS_MAX_ITEMS = 16;

/** Limit of OpenStack names (flavor, network, security group, key pair, zone). */
export const OPENSTACK_NAME_MAX_LENGTH = 255;

const has = (value: unknown, key: string): boolean => isRecord(value) && value[key] !== undefined;

const imageRules = [
  mirroredRule(
    {
      rule: `self.matches(r'${IMAGE_REFERENCE_PATTERN}')`,
      message:
        'must be a Docker image reference [registry[:port]/]repository[:tag][@sha256:<64 hex digits>] with a lowercase repository, e.g. registry.example.com:5000/team/web:1.4.2',
    },
    (self) => typeof self === 'string' && isImageReference(self),
  ),
  mirroredRule(
    {
      rule: `!self.contains('@') || self.matches(r'${IMAGE_DIGEST_SUFFIX_PATTERN}')`,
      message: 'digest must be @sha256: followed by 64 lowercase hexadecimal digits',
    },
    (self) => typeof self === 'string' && hasValidDigest(self),
  ),
];

const secretKeySelector = objectProp(
  'Selects one key of a Secret in the ContainerInstance namespace. The operator reads it at every reconcile, so a changed Secret reaches the server on the next reconcile.',
  {
    name: stringProp('Name of the Secret.', {
      minLength: 1,
      maxLength: 253,
      pattern: DNS_SUBDOMAIN_PATTERN,
    }),
    key: stringProp('Key inside the Secret data.', {
      minLength: 1,
      maxLength: 253,
      pattern: SECRET_KEY_PATTERN,
    }),
  },
  ['name', 'key'],
);

const envVar = objectProp(
  'One environment variable. Set exactly one of value and valueFrom.',
  {
    name: stringProp(
      `Variable name: a letter or underscore, then letters, digits and underscores; at most ${ENV_MAX_LENGTH} characters.`,
      { minLength: 1, maxLength: ENV_MAX_LENGTH, pattern: ENV_NAME_PATTERN },
    ),
    value: stringProp(`Literal value, at most ${ENV_MAX_LENGTH} characters.`, {
      maxLength: ENV_MAX_LENGTH,
    }),
    valueFrom: objectProp(
      `Reads the value from a Secret, which keeps it out of this object. The resolved value must be at most ${ENV_MAX_LENGTH} characters.`,
      { secretKeyRef: secretKeySelector },
      ['secretKeyRef'],
    ),
  },
  ['name'],
  {
    'x-kubernetes-validations': [
      mirroredRule(
        {
          rule: 'has(self.value) != has(self.valueFrom)',
          message: 'exactly one of value or valueFrom must be set',
        },
        (self) => has(self, 'value') !== has(self, 'valueFrom'),
      ),
    ],
  },
);

const networkAttachment = objectProp(
  'One network interface of the server. Set exactly one of name, id or port.',
  {
    name: stringProp('Neutron network name; must be unique in the project.', {
      minLength: 1,
      maxLength: OPENSTACK_NAME_MAX_LENGTH,
    }),
    id: stringProp('Neutron network UUID.', { pattern: UUID_PATTERN }),
    port: stringProp('UUID of an existing, unbound Neutron port to attach.', {
      pattern: UUID_PATTERN,
    }),
  },
  [],
  {
    'x-kubernetes-validations': [
      mirroredRule(
        {
          rule: '(has(self.name) ? 1 : 0) + (has(self.id) ? 1 : 0) + (has(self.port) ? 1 : 0) == 1',
          message: 'exactly one of name, id or port must be set',
        },
        (self) =>
          [has(self, 'name'), has(self, 'id'), has(self, 'port')].filter(Boolean).length === 1,
      ),
    ],
  },
);

const tagRule = mirroredRule(
  {
    rule: `!self.startsWith('${INSTANCE_TAG_PREFIX}') && self != '${MANAGED_TAG}'`,
    message: `tags named ${MANAGED_TAG} or starting with ${INSTANCE_TAG_PREFIX} are reserved for the operator's ownership markers`,
  },
  (self) =>
    typeof self === 'string' && !self.startsWith(INSTANCE_TAG_PREFIX) && self !== MANAGED_TAG,
);

const cloudReference = objectProp(
  'OpenStack cloud that runs the server: a Secret in the ContainerInstance namespace with a clouds.yaml key (and optionally a cacert key with the PEM bundle that signs the endpoints). Omitted: the operator default cloud. Immutable once set, because the server stays in the cloud that created it; rotate credentials by updating the Secret.',
  {
    secretName: stringProp('Name of the Secret holding clouds.yaml.', {
      minLength: 1,
      maxLength: 253,
      pattern: DNS_SUBDOMAIN_PATTERN,
    }),
    cloudName: stringProp('Entry under clouds: in that clouds.yaml, as OS_CLOUD would name it.', {
      minLength: 1,
      maxLength: 255,
    }),
  },
  ['secretName', 'cloudName'],
  {
    'x-kubernetes-validations': [
      transitionRule({
        rule: 'self == oldSelf',
        message:
          'cloud is immutable once set: the server stays in the cloud that created it; update the clouds.yaml in the Secret to rotate credentials, or delete and recreate the ContainerInstance to move clouds',
      }),
    ],
  },
);

/** Schema of `spec`: every field documented, validated by the apiserver on create and update. */
export const specSchema: JSONSchemaProps = objectProp(
  'Desired state of the container: the image, the Nova flavor and networks it runs with, and what to do on deletion.',
  {
    image: stringProp(
      `Docker image reference [registry[:port]/]repository[:tag][@sha256:<64 hex digits>], at most ${IMAGE_REFERENCE_MAX_LENGTH} characters. The operator publishes the image from its registry into Glance and boots the server from it; a changed image rebuilds the server.`,
      {
        minLength: 1,
        maxLength: IMAGE_REFERENCE_MAX_LENGTH,
        'x-kubernetes-validations': imageRules,
      },
    ),
    command: arrayProp(
      'Command and arguments that replace the image entrypoint and command. Stored as the os_command_line property of the Glance image the server boots. Omitted: the image defaults.',
      stringProp('One argument.', { maxLength: COMMAND_ARG_MAX_LENGTH }),
      { maxItems: COMMAND_MAX_ITEMS, 'x-kubernetes-list-type': 'atomic' },
    ),
    env: arrayProp(
      `Environment variables of the container, at most ${ENV_MAX_ITEMS}, with unique names. Nova-Docker passes Nova server metadata to the container as its environment, so names and values follow Nova metadata limits (${ENV_MAX_LENGTH} characters each), and every value, including those read from Secrets, is visible to anyone who can read the server in OpenStack.`,
      envVar,
      {
        maxItems: ENV_MAX_ITEMS,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
    ),
    flavor: stringProp(
      'Nova flavor name or ID. The flavor memory_mb becomes the container memory limit and vcpus x 1024 its CPU shares.',
      { minLength: 1, maxLength: OPENSTACK_NAME_MAX_LENGTH },
    ),
    networks: arrayProp(
      'Networks to attach, in NIC order. Each entry names a network by name or id, or an existing port. Omitted: the operator default network if one is configured, else no network.',
      networkAttachment,
      { maxItems: NETWORKS_MAX_ITEMS, 'x-kubernetes-list-type': 'atomic' },
    ),
    securityGroups: arrayProp(
      'Names of Neutron security groups applied to the server ports. Omitted: the project default group.',
      stringProp('Security group name.', { minLength: 1, maxLength: OPENSTACK_NAME_MAX_LENGTH }),
      { maxItems: SECURITY_GROUPS_MAX_ITEMS, 'x-kubernetes-list-type': 'set' },
    ),
    keyName: stringProp('Name of a Nova key pair to inject into the server.', {
      minLength: 1,
      maxLength: OPENSTACK_NAME_MAX_LENGTH,
    }),
    availabilityZone: stringProp(
      'Nova availability zone to create the server in. Omitted: Nova picks one. Immutable once set, because the server stays in the zone it was created in.',
      {
        minLength: 1,
        maxLength: OPENSTACK_NAME_MAX_LENGTH,
        'x-kubernetes-validations': [
          transitionRule({
            rule: 'self == oldSelf',
            message:
              'availabilityZone is immutable once set: the server stays in the zone it was created in; delete and recreate the ContainerInstance to move it',
          }),
        ],
      },
    ),
    powerState: stringProp(
      'Requested power state: Running starts the container, Stopped stops it (os-stop), Paused freezes it (pause).',
      { enum: [...POWER_STATES], default: 'Running' },
    ),
    imagePullSecrets: arrayProp(
      'Secrets of type kubernetes.io/dockerconfigjson in the ContainerInstance namespace with credentials for the image registry.',
      objectProp(
        'Reference to a Secret in the same namespace.',
        {
          name: stringProp('Name of the Secret.', {
            minLength: 1,
            maxLength: 253,
            pattern: DNS_SUBDOMAIN_PATTERN,
          }),
        },
        ['name'],
      ),
      {
        maxItems: IMAGE_PULL_SECRETS_MAX_ITEMS,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
    ),
    cloud: cloudReference,
    deletionPolicy: stringProp(
      'What happens to the Nova server when the ContainerInstance is deleted: Delete removes it, Orphan leaves it running and only removes the finalizer.',
      { enum: [...DELETION_POLICIES], default: 'Delete' },
    ),
    tags: arrayProp(
      `Extra Nova server tags, at most ${TAGS_MAX_ITEMS}, each 1 to ${TAG_MAX_LENGTH} characters without / or ,. The operator adds ${MANAGED_TAG} and ${INSTANCE_TAG_PREFIX}<uid> itself; those names are reserved.`,
      stringProp('One server tag.', {
        minLength: 1,
        maxLength: TAG_MAX_LENGTH,
        pattern: TAG_PATTERN,
        'x-kubernetes-validations': [tagRule],
      }),
      { maxItems: TAGS_MAX_ITEMS, 'x-kubernetes-list-type': 'set' },
    ),
  },
  ['image', 'flavor'],
  {
    'x-kubernetes-validations': [
      transitionRule({
        rule: 'has(self.availabilityZone) == has(oldSelf.availabilityZone)',
        fieldPath: '.availabilityZone',
        message:
          'availabilityZone cannot be added or removed after creation: the server was placed when it was created; delete and recreate the ContainerInstance to choose a zone',
      }),
      transitionRule({
        rule: 'has(self.cloud) == has(oldSelf.cloud)',
        fieldPath: '.cloud',
        message:
          'cloud cannot be added or removed after creation: the server stays in the cloud that created it; delete and recreate the ContainerInstance to move clouds',
      }),
    ],
  },
);
