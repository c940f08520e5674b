import { type Issue, ValidationError } from '../../../errors';
import { type LabelMatcher, type Labels, matchesAll, parseMatcherText } from './labels';

/**
 * Inhibition, as Alertmanager's inhibit/inhibit.go: while an alert matching a rule's source
 * matchers fires, alerts matching its target matchers that carry the same values for every `equal`
 * label (a label both lack counts as equal, "" = "") are muted. When an alert matches both the
 * source and the target side of a rule, source alerts that also match the target side are
 * disregarded for it, so such an alert never inhibits itself (nor its peers).
 */

export interface InhibitRuleConfig {
  readonly source_matchers?: readonly string[];
  readonly target_matchers?: readonly string[];
  readonly equal?: readonly string[];
}

export interface InhibitRule {
  readonly sourceMatchers: readonly LabelMatcher[];
  readonly targetMatchers: readonly LabelMatcher[];
  readonly equal: readonly string[];
}

/** A firing alert as the inhibition view exposes it. */
export interface AlertRef {
  readonly fingerprint: string;
  readonly labels: Labels;
}

/**
 * The port the AWS layer implements: the alerts firing now, across every group, that match some
 * rule's source side (see {@link isInhibitionSource} to decide what to index). The dispatcher never
 * asks for anything else, so a store can keep just those.
 */
export interface FiringAlertsView {
  readonly firing: readonly AlertRef[];
}

/** Parses `inhibit_rules` entries; throws a {@link ValidationError} naming each bad path. */
export function parseInhibitRules(config: unknown): InhibitRule[] {
  const issues: Issue[] = [];
  if (!Array.isArray(config)) {
    throw new ValidationError('inhibit_rules: expected a list', [
      { path: 'inhibit_rules', message: 'expected a list' },
    ]);
  }
  const rules = config.map((raw: unknown, i): InhibitRule => {
    const path = `inhibit_rules[${i}]`;
    const rule = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const side = (key: string): LabelMatcher[] => {
      const list = rule[key];
      if (list === undefined) return [];
      if (!Array.isArray(list)) {
        issues.push({ path: `${path}.${key}`, message: 'expected a list of matcher strings' });
        return [];
      }
      return list.flatMap((text: unknown, j) => {
        try {
          return parseMatcherText(text as string, `${path}.${key}[${j}]`);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          issues.push(...error.issues);
          return [];
        }
      });
    };
    const equal = rule.equal ?? [];
    if (
      !Array.isArray(equal) ||
      equal.some((n) => typeof n !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(n))
    ) {
      issues.push({ path: `${path}.equal`, message: 'expected a list of label names' });
    }
    return {
      sourceMatchers: side('source_matchers'),
      targetMatchers: side('target_matchers'),
      equal: Array.isArray(equal) ? (equal as string[]) : [],
    };
  });
  if (issues.length > 0) {
    throw ValidationError.listing('Invalid inhibit rules', issues);
  }
  return rules;
}

/** Whether an alert with these labels can inhibit anything: the AWS layer indexes just these. */
export function isInhibitionSource(labels: Labels, rules: readonly InhibitRule[]): boolean {
  return rules.some((rule) => matchesAll(rule.sourceMatchers, labels));
}

/**
 * The fingerprint of a firing alert that inhibits an alert with these labels, or `undefined`.
 * Alertmanager's `Inhibitor.Mutes`: rules in order, the first source found wins.
 */
export function inhibitedBy(
  labels: Labels,
  rules: readonly InhibitRule[],
  view: FiringAlertsView,
): string | undefined {
  for (const rule of rules) {
    if (!matchesAll(rule.targetMatchers, labels)) continue;
    const excludeTwoSided = matchesAll(rule.sourceMatchers, labels);
    for (const source of view.firing) {
      if (!matchesAll(rule.sourceMatchers, source.labels)) continue;
      if (!rule.equal.every((name) => (source.labels[name] ?? '') === (labels[name] ?? ''))) continue;
      if (excludeTwoSided && matchesAll(rule.targetMatchers, source.labels)) continue;
      return source.fingerprint;
    }
  }
  return undefined;
}
