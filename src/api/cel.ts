import type { ValidationRule } from './openapi.js';

/**
 * CEL rules of the ContainerInstance schema, each paired with a JavaScript
 * predicate that decides the same thing. The apiserver evaluates the CEL text.
 * The operator's ajv validator looks the predicate up by that text, so a rule
 * and its mirror are written once, side by side.
 *
 * Transition rules compare with `oldSelf` and have no mirror: a single object
 * read from the apiserver carries no previous version to compare with.
 */

/** JavaScript mirror of a CEL rule: returns true when `self` satisfies the rule. */
export type RuleCheck = (self: unknown) => boolean;

const mirrors = new Map<string, RuleCheck>();

/**
 * Declares a CEL rule with its JavaScript mirror and returns the rule for the
 * schema. Throws when the same rule text is declared twice with another mirror,
 * because the validator finds mirrors by rule text.
 */
export function mirroredRule(rule: ValidationRule, check: RuleCheck): ValidationRule {
  const existing = mirrors.get(rule.rule);
  if (existing && existing !== check) {
    throw new Error(
      `CEL rule ${JSON.stringify(rule.rule)} is declared twice with different mirrors`,
    );
  }
  mirrors.set(rule.rule, check);
  return rule;
}

/**
 * Declares a transition rule (one that reads `oldSelf`). The apiserver runs it
 * on updates only; the ajv validator skips it. Throws when the rule does not
 * mention oldSelf, because then it is not a transition rule and needs a mirror.
 */
export function transitionRule(rule: ValidationRule): ValidationRule {
  if (!rule.rule.includes('oldSelf')) {
    throw new Error(
      `transition rule ${JSON.stringify(rule.rule)} does not read oldSelf; declare it with mirroredRule`,
    );
  }
  return rule;
}

/** Returns the JavaScript mirror of a CEL rule, or undefined for transition rules and unknown text. */
export function ruleMirror(rule: string): RuleCheck | undefined {
  return mirrors.get(rule);
}

/** Returns whether a CEL rule is a transition rule, i.e. reads `oldSelf`. */
export function isTransitionRule(rule: string): boolean {
  return /\boldSelf\b/.test(rule);
}

/** Narrows an unknown value to a plain object, for mirrors that test field presence. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
