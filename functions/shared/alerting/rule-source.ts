import { type AlertRule, parseRule } from '../domain/alerting/rules';
import type { RuleStore } from '../domain/alerting/stores';

/**
 * The rules in force, read from the store on every call (a rule saved a moment ago applies to the
 * next datapoint) and parsed once per definition while the container is warm. A stored rule that
 * no longer parses (written by an older version) is skipped and reported, never fatal.
 */
export class RuleSource {
  private parsed = new Map<string, AlertRule>();

  constructor(
    private readonly store: RuleStore,
    private readonly onInvalid?: (name: string, error: unknown) => void,
  ) {}

  async rules(): Promise<AlertRule[]> {
    const next = new Map<string, AlertRule>();
    for (const stored of await this.store.list()) {
      const text = JSON.stringify(stored.definition);
      try {
        next.set(text, this.parsed.get(text) ?? parseRule(stored.definition));
      } catch (error) {
        this.onInvalid?.(stored.name, error);
      }
    }
    this.parsed = next;
    return [...next.values()];
  }
}
