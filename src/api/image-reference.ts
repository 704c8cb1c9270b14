/**
 * The Docker image reference grammar accepted in `spec.image`, following the
 * distribution/reference grammar with the digest restricted to sha256:
 *
 *   [registry[:port]/]repository[:tag][@sha256:<64 hex>]
 *
 * The expressions use only syntax that Go's RE2 (the apiserver's CEL
 * `matches`) and JavaScript RegExp read the same way: no lookaround, no
 * backreferences, no named groups.
 */

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const repository = `${pathComponent}(?:/${pathComponent})*`;
const tag = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const digest = 'sha256:[a-f0-9]{64}';

/** Anchored expression for a whole image reference. */
export const IMAGE_REFERENCE_PATTERN = `^(?:${domain}/)?${repository}(?::${tag})?(?:@${digest})?$`;

/** Expression that a reference with a digest must end with. */
export const IMAGE_DIGEST_SUFFIX_PATTERN = `@${digest}$`;

/**
 * Longest accepted reference. The repository and tag become the Glance image
 * name, which Glance limits to 255 characters, so longer references could
 * never be published.
 */
export const IMAGE_REFERENCE_MAX_LENGTH = 255;

const referenceExpression = new RegExp(IMAGE_REFERENCE_PATTERN);
const digestExpression = new RegExp(IMAGE_DIGEST_SUFFIX_PATTERN);

/** Returns whether the text is a reference that `spec.image` accepts (grammar and length). */
export function isImageReference(text: string): boolean {
  return text.length <= IMAGE_REFERENCE_MAX_LENGTH && referenceExpression.test(text);
}

/** Returns whether the text has no digest or ends with a well-formed sha256 digest. */
export function hasValidDigest(text: string): boolean {
  return !text.includes('@') || digestExpression.test(text);
}
