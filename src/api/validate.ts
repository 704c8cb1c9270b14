import { Ajv, type ErrorObject, type SchemaValidateFunction, type ValidateFunction } from 'ajv';

import { isRecord, isTransitionRule, ruleMirror } from './cel.js';
import { API_VERSION, KIND } from './constants.js';
import { containerInstanceSchema } from './crd.js';
import type { ValidationRule } from './openapi.js';
import type { ContainerInstance } from './types.js';

/**
 * A second check of ContainerInstance objects inside the operator, compiled
 * with ajv from the same schema the CRD serves.
 *
 * The apiserver is the primary validator: it rejects bad objects on create and
 * update, with CEL and transition rules. This validator is defence in depth
 * for objects the operator reads (from a cache, an older CRD, or a test
 * fixture) before it acts on a cloud. It evaluates the structural schema, list
 * uniqueness and the CEL rules through their JavaScript mirrors. It skips
 * transition rules, because they need the previous object. It accepts unknown
 * fields, because the apiserver prunes them and a newer CRD may add some.
 */

/** Outcome of {@link validateContainerInstance}: errors name the field path, as the apiserver does. */
export interface ValidationResult {
  valid: boolean;
  errors: string[];
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

let compiled: ValidateFunction | undefined;

/**
 * Validates an object against the ContainerInstance schema and returns every
 * problem found. Invalid input is reported in the result, not thrown.
 */
export function validateContainerInstance(object: unknown): ValidationResult {
  const errors: string[] = [];
  if (!isRecord(object)) {
    return {
      valid: false,
      errors: [`expected a ContainerInstance object, received ${describe(object)}`],
    };
  }
  if (object.apiVersion !== API_VERSION) {
    errors.push(
      `apiVersion: must be ${API_VERSION}, received ${JSON.stringify(object.apiVersion)}`,
    );
  }
  if (object.kind !== KIND) {
    errors.push(`kind: must be ${KIND}, received ${JSON.stringify(object.kind)}`);
  }

  const validate = validator();
  if (!validate(object)) {
    errors.push(...(validate.errors ?? []).map(formatError));
  }
  return { valid: errors.length === 0, errors };
}

/**
 * Narrows an object to a ContainerInstance, or throws one Error that lists
 * every problem with its field path. `name` identifies the object in the
 * message, e.g. `namespace/name`.
 */
export function assertContainerInstance(
  object: unknown,
  name = 'object',
): asserts object is ContainerInstance {
  const result = validateContainerInstance(object);
  if (!result.valid) {
    throw new Error(
      `ContainerInstance ${name} is invalid: ${result.errors.join('; ')}. The apiserver should have rejected it; check that the installed CRD matches this operator version`,
    );
  }
}

function validator(): ValidateFunction {
  if (compiled) return compiled;

  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  ajv.addFormat('date-time', RFC3339);
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isSafeInteger(n) });
  ajv.addKeyword({ keyword: 'x-kubernetes-list-map-keys', schemaType: 'array' });
  ajv.addKeyword({ keyword: 'x-kubernetes-map-type', schemaType: 'string' });
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    schemaType: 'string',
    type: 'array',
    validate: validateListType,
    errors: true,
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    schemaType: 'array',
    validate: validateRules,
    errors: true,
  });

  compiled = ajv.compile(containerInstanceSchema);
  return compiled;
}

const validateListType: SchemaValidateFunction = function validateListType(
  listType,
  data,
  parentSchema,
  context,
) {
  const base = context?.instancePath ?? '';
  if (!Array.isArray(data) || listType === 'atomic') return true;

  const keys: string[] =
    listType === 'map'
      ? ((parentSchema as Record<string, unknown>)['x-kubernetes-list-map-keys'] as string[])
      : [];
  const seen = new Map<string, number>();
  const errors: Partial<ErrorObject>[] = [];
  data.forEach((item, index) => {
    const identity = JSON.stringify(
      listType === 'map' && isRecord(item) ? keys.map((key) => item[key]) : item,
    );
    const first = seen.get(identity);
    if (first === undefined) {
      seen.set(identity, index);
      return;
    }
    errors.push({
      keyword: 'x-kubernetes-list-type',
      instancePath: `${base}/${index}`,
      message: `duplicate value ${identity} (same as item ${first})`,
      params: {},
    });
  });
  (validateListType as { errors?: unknown }).errors = errors;
  return errors.length === 0;
};

const validateRules: SchemaValidateFunction = function validateRules(
  rules: ValidationRule[],
  data,
  _parentSchema,
  context,
) {
  const base = context?.instancePath ?? '';
  const errors: Partial<ErrorObject>[] = [];
  for (const rule of rules) {
    if (isTransitionRule(rule.rule)) continue;
    const check = ruleMirror(rule.rule);
    if (!check) {
      errors.push({
        keyword: 'x-kubernetes-validations',
        instancePath: base,
        message: `CEL rule ${rule.rule} has no JavaScript mirror`,
        params: {},
      });
      continue;
    }
    if (!check(data)) {
      errors.push({
        keyword: 'x-kubernetes-validations',
        instancePath: base + (rule.fieldPath ? rule.fieldPath.replace(/\./g, '/') : ''),
        message: rule.message ?? `failed rule: ${rule.rule}`,
        params: { rule: rule.rule },
      });
    }
  }
  (validateRules as { errors?: unknown }).errors = errors;
  return errors.length === 0;
};

/** Formats an ajv error as `spec.env[1].name: must match pattern ...`. */
function formatError(error: ErrorObject): string {
  const segments = error.instancePath.split('/').slice(1).map(unescapePointer);
  if (error.keyword === 'required') {
    segments.push((error.params as { missingProperty: string }).missingProperty);
    return `${fieldPath(segments)}: Required value`;
  }
  return `${fieldPath(segments)}: ${error.message ?? 'invalid'}`;
}

/** Joins JSON Pointer segments into a Kubernetes field path such as `spec.env[1].name`. */
function fieldPath(segments: string[]): string {
  let path = '';
  for (const segment of segments) {
    if (/^\d+$/.test(segment)) {
      path += `[${segment}]`;
    } else {
      path += path ? `.${segment}` : segment;
    }
  }
  return path || '<root>';
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
