import { arrayProp, integerProp, objectProp, stringProp, type JSONSchemaProps } from './openapi.js';
import { OBSERVED_POWER_STATES, PHASES } from './types.js';

/** Schema of one condition, identical in shape and limits to metav1.Condition. */
export const conditionSchema: JSONSchemaProps = objectProp(
  'One aspect of the instance state, in the standard Kubernetes condition shape.',
  {
    type: stringProp(
      'Condition type: Ready, Reconciling, Stalled, ImagePublished or ServerReady. Reconciling and Stalled follow the kstatus conventions that Flux and Argo CD health checks read.',
      {
        maxLength: 316,
        pattern:
          '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      },
    ),
    status: stringProp('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    observedGeneration: integerProp(
      'metadata.generation of the spec this condition was computed from.',
      {
        format: 'int64',
        minimum: 0,
      },
    ),
    lastTransitionTime: stringProp(
      'Time the status last changed value; unchanged while the status stays the same.',
      {
        format: 'date-time',
      },
    ),
    reason: stringProp('CamelCase reason for the last transition, for machines.', {
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: stringProp('Details of the last transition, for humans; may be empty.', {
      maxLength: 32768,
    }),
  },
  ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
);

/** Schema of `status`, written by the operator through the status subresource. */
export const statusSchema: JSONSchemaProps = objectProp(
  'Observed state of the instance, written by the operator.',
  {
    observedGeneration: integerProp(
      'metadata.generation of the spec the operator last reconciled.',
      {
        format: 'int64',
        minimum: 0,
      },
    ),
    phase: stringProp(
      'Summary of the lifecycle for humans: Pending, PublishingImage, Creating, Running, Stopped, Paused, Failed or Deleting. Automation should read conditions instead.',
      { enum: [...PHASES] },
    ),
    serverID: stringProp(
      'UUID of the Nova server that runs the container; recorded right after the create call returns.',
      {
        maxLength: 255,
      },
    ),
    image: objectProp('The Glance image the server boots from.', {
      glanceID: stringProp('Glance image UUID.', { maxLength: 255 }),
      digest: stringProp(
        'Registry manifest digest of the published image, sha256:<64 hex digits>.',
        {
          maxLength: 255,
        },
      ),
    }),
    addresses: arrayProp(
      'IP addresses of the server, in the order Nova reports them.',
      objectProp(
        'One server address.',
        {
          network: stringProp('Network name as Nova reports it.', { maxLength: 255 }),
          ip: stringProp('IPv4 or IPv6 address.', { maxLength: 45 }),
          version: integerProp('IP version, 4 or 6.', { enum: [4, 6] }),
        },
        ['network', 'ip', 'version'],
      ),
      { maxItems: 64, 'x-kubernetes-list-type': 'atomic' },
    ),
    powerState: stringProp(
      'Power state observed on the Nova server: Running, Stopped, Paused, Suspended, Crashed or Unknown.',
      { enum: [...OBSERVED_POWER_STATES] },
    ),
    fault: objectProp('The Nova server fault, copied while the server is in ERROR.', {
      code: integerProp('HTTP-style fault code Nova recorded, e.g. 500.', { format: 'int32' }),
      message: stringProp('Fault message from Nova, e.g. "No valid host was found."', {
        maxLength: 32768,
      }),
      time: stringProp('Time Nova recorded the fault.', { format: 'date-time' }),
    }),
    conditions: arrayProp('Conditions of the instance, one per type.', conditionSchema, {
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
  },
);
