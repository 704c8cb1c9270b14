/**
 * The subset of the Kubernetes OpenAPI v3 schema (apiextensions.k8s.io/v1
 * JSONSchemaProps) that the ContainerInstance schema uses, plus small builders
 * that keep every node's description next to its type.
 */

/** A CEL validation rule as the apiserver reads it from `x-kubernetes-validations`. */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  /** JSONPath relative to the node carrying the rule, used as the error's field. */
  fieldPath?: string;
  reason?:
    'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** One node of a structural schema. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  enum?: (string | number)[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

type Extra = Omit<JSONSchemaProps, 'type' | 'description' | 'properties' | 'items' | 'required'>;

/** Builds a string node. */
export function stringProp(description: string, extra: Extra = {}): JSONSchemaProps {
  return { type: 'string', description, ...extra };
}

/** Builds an integer node. */
export function integerProp(description: string, extra: Extra = {}): JSONSchemaProps {
  return { type: 'integer', description, ...extra };
}

/** Builds an object node; `required` lists the properties that must be present. */
export function objectProp(
  description: string,
  properties: Record<string, JSONSchemaProps>,
  required: string[] = [],
  extra: Extra = {},
): JSONSchemaProps {
  return {
    type: 'object',
    description,
    properties,
    ...(required.length > 0 ? { required } : {}),
    ...extra,
  };
}

/** Builds an array node. */
export function arrayProp(
  description: string,
  items: JSONSchemaProps,
  extra: Extra = {},
): JSONSchemaProps {
  return { type: 'array', description, items, ...extra };
}
