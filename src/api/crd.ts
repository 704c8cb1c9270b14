import {
  API_VERSION,
  CATEGORIES,
  CRD_NAME,
  GROUP,
  KIND,
  LIST_KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from './constants.js';
import { objectProp, stringProp, type JSONSchemaProps } from './openapi.js';
import { specSchema } from './spec-schema.js';
import { statusSchema } from './status-schema.js';

/** A column of `kubectl get`; priority 1 columns appear only with `-o wide`. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

/** Columns of `kubectl get containerinstances`, in display order. */
export const printerColumns: PrinterColumn[] = [
  { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase.' },
  {
    name: 'Image',
    type: 'string',
    jsonPath: '.spec.image',
    description: 'Requested image reference.',
  },
  {
    name: 'Server',
    type: 'string',
    jsonPath: '.status.serverID',
    description: 'Nova server UUID.',
  },
  {
    name: 'Address',
    type: 'string',
    jsonPath: '.status.addresses[0].ip',
    description: 'First server address.',
  },
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'Status of the Ready condition.',
  },
  {
    name: 'Age',
    type: 'date',
    jsonPath: '.metadata.creationTimestamp',
    description: 'Time since creation.',
  },
  {
    name: 'Flavor',
    type: 'string',
    jsonPath: '.spec.flavor',
    description: 'Nova flavor.',
    priority: 1,
  },
  {
    name: 'Message',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].message',
    description: 'Message of the Ready condition.',
    priority: 1,
  },
];

/** Schema of a whole ContainerInstance object, as served by the CRD. */
export const containerInstanceSchema: JSONSchemaProps = objectProp(
  'A Docker container that the operator runs as a Nova-Docker server on OpenStack, publishing its image from the registry into Glance first.',
  {
    apiVersion: stringProp(
      `Versioned schema of this representation of an object: ${API_VERSION}. Servers convert recognized schemas to the latest internal value.`,
    ),
    kind: stringProp(`Kind of the object: ${KIND}.`),
    // The apiserver forbids anything but the type here; metadata is documented by Kubernetes itself.
    metadata: { type: 'object' },
    spec: specSchema,
    status: statusSchema,
  },
  ['spec'],
);

/**
 * Returns the ContainerInstance CustomResourceDefinition as a plain
 * apiextensions.k8s.io/v1 object, ready to serialize or to send to the
 * apiserver. Each call returns a fresh copy.
 */
export function buildCustomResourceDefinition(): Record<string, unknown> {
  return structuredClone({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: {
        'app.kubernetes.io/name': 'nova-docker-operator',
        'app.kubernetes.io/part-of': 'nova-docker-operator',
      },
    },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: [...CATEGORIES],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
          schema: { openAPIV3Schema: containerInstanceSchema },
        },
      ],
    },
  });
}
