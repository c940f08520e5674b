import { parseRouting } from '../shared/alerting/routing';
import { parseRule } from '../shared/domain/alerting/rules';
import type { RoutingConfig, RoutingStore, RuleStore, StoredRule } from '../shared/domain/alerting/stores';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import type { Clock } from '../shared/ports';

/** Validates a definition as a rule (every issue at once) and returns it as it will be stored. */
function validated(definition: unknown, clock: Clock): StoredRule {
  const rule = parseRule(definition);
  return {
    name: rule.name,
    definition: definition as Record<string, unknown>,
    updatedAt: new Date(clock()).toISOString(),
  };
}

/** POST /api/alert-rules: a new rule; a name already in use is a conflict. */
export async function createRule(definition: unknown, store: RuleStore, clock: Clock): Promise<StoredRule> {
  const rule = validated(definition, clock);
  if (!(await store.put(rule, { ifAbsent: true }))) {
    throw new ConflictError(
      `A rule named "${rule.name}" exists; PUT /api/alert-rules/${rule.name} replaces it`,
    );
  }
  return rule;
}

/** PUT /api/alert-rules/{name}: creates or replaces; the body's name must be the path's. */
export async function putRule(
  name: string,
  definition: unknown,
  store: RuleStore,
  clock: Clock,
): Promise<{ rule: StoredRule; created: boolean }> {
  const rule = validated(definition, clock);
  if (rule.name !== name) {
    throw new ValidationError(`The rule's name "${rule.name}" does not match the path's "${name}"`, [
      { path: 'name', message: `expected "${name}"` },
    ]);
  }
  const created = (await store.get(name)) === undefined;
  await store.put(rule);
  return { rule, created };
}

/** GET /api/alert-rules/{name}. */
export async function getRule(name: string, store: RuleStore): Promise<StoredRule> {
  const rule = await store.get(name);
  if (!rule) throw new NotFoundError(`No rule named "${name}"`);
  return rule;
}

/** DELETE /api/alert-rules/{name}. */
export async function deleteRule(name: string, store: RuleStore): Promise<void> {
  if (!(await store.delete(name))) throw new NotFoundError(`No rule named "${name}"`);
}

/** GET /api/alert-routing: the routing in force, and whether it is the stage's default. */
export async function getRouting(
  store: RoutingStore,
  stageDefault: RoutingConfig,
): Promise<{ source: 'runtime' | 'stage-default'; updatedAt?: string } & RoutingConfig> {
  const stored = await store.get();
  if (!stored) return { source: 'stage-default', ...stageDefault };
  return { source: 'runtime', updatedAt: stored.updatedAt, ...stored.config };
}

/** PUT /api/alert-routing: validates (every problem named) and replaces the routing; applies to the next alert event. */
export async function putRouting(
  body: unknown,
  store: RoutingStore,
  clock: Clock,
): Promise<{ source: 'runtime'; updatedAt: string } & RoutingConfig> {
  const { config } = parseRouting(body);
  const updatedAt = new Date(clock()).toISOString();
  await store.put(config, updatedAt);
  return { source: 'runtime', updatedAt, ...config };
}
