/**
 * The ContainerInstance API: types, schema, CRD, conditions and the in-process
 * validator. Everything the operator knows about the resource's shape comes
 * from here.
 */
export * from './constants.js';
export * from './types.js';
export * from './conditions.js';
export {
  buildCustomResourceDefinition,
  containerInstanceSchema,
  printerColumns,
  type PrinterColumn,
} from './crd.js';
export { specSchema } from './spec-schema.js';
export { statusSchema, conditionSchema } from './status-schema.js';
export type { JSONSchemaProps, ValidationRule } from './openapi.js';
export {
  IMAGE_REFERENCE_PATTERN,
  IMAGE_REFERENCE_MAX_LENGTH,
  isImageReference,
  hasValidDigest,
} from './image-reference.js';
export {
  validateContainerInstance,
  assertContainerInstance,
  type ValidationResult,
} from './validate.js';
