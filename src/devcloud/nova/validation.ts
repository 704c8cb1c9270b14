import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

import { ApiError } from '../http/errors.js';
import type { Microversion } from './microversion.js';
import { pythonRepr } from './python-repr.js';

const uuidPattern =
  /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

const ajv = new Ajv({ allErrors: false, strict: false });
ajv.addFormat('uuid', uuidPattern);

/** Server tag: Nova allows 1 to 60 characters without "/" or ",". */
export const tagSchema = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };

const metadataSchema = {
  type: 'object',
  patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: 'string', maxLength: 255 } },
  additionalProperties: false,
};

function networkItem(version: Microversion): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      fixed_ip: { type: 'string' },
      port: { oneOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] },
      uuid: { type: 'string' },
      ...(version.atLeast('2.32') ? { tag: tagSchema } : {}),
    },
    additionalProperties: false,
  };
}

/** JSON schema of POST /servers at a microversion, following Nova's schema for the fields the dev cloud supports. */
function serverCreateSchema(version: Microversion): Record<string, unknown> {
  const networks = version.atLeast('2.37')
    ? {
        oneOf: [
          { type: 'array', items: networkItem(version) },
          { type: 'string', enum: ['none', 'auto'] },
        ],
      }
    : { type: 'array', items: networkItem(version) };
  const properties: Record<string, unknown> = {
    name: { type: 'string', minLength: 1, maxLength: 255 },
    imageRef: { type: 'string' },
    flavorRef: { type: ['string', 'integer'], minLength: 1 },
    adminPass: { type: 'string' },
    metadata: metadataSchema,
    networks,
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
    accessIPv4: { type: 'string' },
    accessIPv6: { type: 'string' },
    availability_zone: { type: 'string' },
    block_device_mapping: { type: 'array' },
    block_device_mapping_v2: { type: 'array' },
    config_drive: { type: ['boolean', 'string'] },
    key_name: { type: 'string' },
    min_count: { type: ['integer', 'string'] },
    max_count: { type: ['integer', 'string'] },
    return_reservation_id: { type: ['boolean', 'string'] },
    security_groups: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' } },
        additionalProperties: false,
      },
    },
    user_data: { type: 'string' },
  };
  if (version.atLeast('2.19'))
    properties.description = { type: ['string', 'null'], maxLength: 255 };
  if (version.atLeast('2.52')) properties.tags = { type: 'array', items: tagSchema, maxItems: 50 };
  if (version.atLeast('2.63')) properties.trusted_image_certificates = { type: ['array', 'null'] };
  if (version.atLeast('2.74')) {
    properties.host = { type: 'string' };
    properties.hypervisor_hostname = { type: 'string' };
  }
  if (version.atLeast('2.90'))
    properties.hostname = { type: 'string', minLength: 1, maxLength: 63 };
  return {
    type: 'object',
    properties: {
      server: {
        type: 'object',
        properties,
        required: version.atLeast('2.37')
          ? ['name', 'flavorRef', 'networks']
          : ['name', 'flavorRef'],
        additionalProperties: false,
      },
      'os:scheduler_hints': { type: 'object' },
      'OS-SCH-HNT:scheduler_hints': { type: 'object' },
    },
    required: ['server'],
    additionalProperties: false,
  };
}

function rebuildSchema(version: Microversion): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    imageRef: { type: 'string' },
    name: { type: 'string', minLength: 1, maxLength: 255 },
    adminPass: { type: 'string' },
    metadata: metadataSchema,
    preserve_ephemeral: { type: 'boolean' },
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
    accessIPv4: { type: 'string' },
    accessIPv6: { type: 'string' },
  };
  if (version.atLeast('2.19'))
    properties.description = { type: ['string', 'null'], maxLength: 255 };
  if (version.atLeast('2.54')) properties.key_name = { type: ['string', 'null'] };
  if (version.atLeast('2.57')) properties.user_data = { type: ['string', 'null'] };
  if (version.atLeast('2.90'))
    properties.hostname = { type: 'string', minLength: 1, maxLength: 63 };
  return {
    type: 'object',
    properties: {
      rebuild: { type: 'object', properties, required: ['imageRef'], additionalProperties: false },
    },
    required: ['rebuild'],
    additionalProperties: false,
  };
}

const fixedSchemas = {
  reboot: {
    type: 'object',
    properties: {
      reboot: {
        type: 'object',
        properties: {
          type: { type: 'string', enum: ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft'] },
        },
        required: ['type'],
        additionalProperties: false,
      },
    },
    required: ['reboot'],
    additionalProperties: false,
  },
  consoleOutput: {
    type: 'object',
    properties: {
      'os-getConsoleOutput': {
        type: 'object',
        properties: { length: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$' } },
        additionalProperties: false,
      },
    },
    required: ['os-getConsoleOutput'],
    additionalProperties: false,
  },
  tags: {
    type: 'object',
    properties: { tags: { type: 'array', items: tagSchema, maxItems: 50 } },
    required: ['tags'],
    additionalProperties: false,
  },
  metadata: {
    type: 'object',
    properties: { metadata: metadataSchema },
    required: ['metadata'],
    additionalProperties: false,
  },
  metadataItem: {
    type: 'object',
    properties: { meta: { ...metadataSchema, minProperties: 1, maxProperties: 1 } },
    required: ['meta'],
    additionalProperties: false,
  },
  serverUpdate: {
    type: 'object',
    properties: {
      server: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 255 },
          description: { type: ['string', 'null'], maxLength: 255 },
          accessIPv4: { type: 'string' },
          accessIPv6: { type: 'string' },
          'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
        },
        additionalProperties: false,
      },
    },
    required: ['server'],
    additionalProperties: false,
  },
};

const cache = new Map<string, ValidateFunction>();

function compiled(key: string, build: () => Record<string, unknown>): ValidateFunction {
  let validate = cache.get(key);
  if (!validate) {
    validate = ajv.compile(build());
    cache.set(key, validate);
  }
  return validate;
}

/** Validates a body against one of the fixed request schemas; throws Nova's 400 on the first error. */
export function validateBody(kind: keyof typeof fixedSchemas, body: unknown): void {
  check(
    compiled(kind, () => fixedSchemas[kind]),
    body,
  );
}

/** Validates a POST /servers body at a microversion; throws Nova's 400 on the first error. */
export function validateServerCreate(version: Microversion, body: unknown): void {
  check(
    compiled(`create-${version.minor}`, () => serverCreateSchema(version)),
    body,
  );
}

/**
 * Returns Nova's unshelve schema at a microversion, or undefined below 2.77,
 * where Nova does not validate the body. From 2.77 the value is null or an
 * object naming `availability_zone`; from 2.91 the zone may be null and a
 * `host` may be named too.
 */
function unshelveSchema(version: Microversion): Record<string, unknown> | undefined {
  if (!version.atLeast('2.77')) return undefined;
  const unshelve = version.atLeast('2.91')
    ? {
        oneOf: [
          {
            type: 'object',
            properties: {
              availability_zone: { oneOf: [{ type: 'null' }, { type: 'string' }] },
              host: { type: 'string' },
            },
            additionalProperties: false,
          },
          { type: 'null' },
        ],
      }
    : {
        type: ['object', 'null'],
        properties: { availability_zone: { type: 'string', minLength: 1, maxLength: 255 } },
        required: ['availability_zone'],
        additionalProperties: false,
      };
  return {
    type: 'object',
    properties: { unshelve },
    required: ['unshelve'],
    additionalProperties: false,
  };
}

/** Validates an unshelve action body at a microversion; throws Nova's 400 on the first error. */
export function validateUnshelve(version: Microversion, body: unknown): void {
  const schema = unshelveSchema(version);
  if (schema === undefined) return;
  check(
    compiled(`unshelve-${version.atLeast('2.91') ? 91 : 77}`, () => schema),
    body,
  );
}

/** Validates a rebuild action body at a microversion; throws Nova's 400 on the first error. */
export function validateRebuild(version: Microversion, body: unknown): void {
  check(
    compiled(`rebuild-${version.minor}`, () => rebuildSchema(version)),
    body,
  );
}

function check(validate: ValidateFunction, body: unknown): void {
  if (validate(body)) return;
  throw new ApiError(400, describe(validate.errors![0]!, body));
}

/**
 * Words an ajv error the way Nova words a jsonschema error: "Invalid input for
 * field/attribute <name>. Value: <python repr>. <reason>", or just the reason
 * when the error is at the top of the body.
 */
function describe(error: ErrorObject, body: unknown): string {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  let value: unknown = body;
  for (const segment of segments) value = (value as Record<string, unknown>)[segment];
  const valueRepr = pythonRepr(value);
  const params = error.params as Record<string, unknown>;

  let reason: string;
  switch (error.keyword) {
    case 'required':
      reason = `'${String(params.missingProperty)}' is a required property`;
      break;
    case 'additionalProperties':
      reason = `Additional properties are not allowed ('${String(params.additionalProperty)}' was unexpected)`;
      break;
    case 'type': {
      const types = String(params.type)
        .split(',')
        .map((type) => `'${type}'`);
      reason = `${valueRepr} is not of type ${types.join(', ')}`;
      break;
    }
    case 'maxLength':
    case 'maxItems':
    case 'maxProperties':
      reason = `${valueRepr} is too long`;
      break;
    case 'minLength':
    case 'minItems':
    case 'minProperties':
      reason = `${valueRepr} is too short`;
      break;
    case 'enum':
      reason = `${valueRepr} is not one of ${pythonRepr(params.allowedValues)}`;
      break;
    case 'pattern':
      reason = `${valueRepr} does not match '${String(params.pattern)}'`;
      break;
    case 'format':
      reason = `${valueRepr} is not a '${String(params.format)}'`;
      break;
    case 'oneOf':
      reason = `${valueRepr} is not valid under any of the given schemas`;
      break;
    default:
      reason = `${valueRepr} ${error.message ?? 'is invalid'}`;
  }
  const field = segments.at(-1);
  return field === undefined
    ? reason
    : `Invalid input for field/attribute ${field}. Value: ${valueRepr}. ${reason}`;
}
