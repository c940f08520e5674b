import { type InhibitRule, parseInhibitRules } from '../domain/alerting/dispatch/inhibit';
import { parseRouteTree, type Route } from '../domain/alerting/dispatch/route';
import { collectTimeIntervals, type TimeIntervals } from '../domain/alerting/dispatch/time-intervals';
import type { RoutingConfig, RoutingStore } from '../domain/alerting/stores';
import { type Issue, ValidationError } from '../errors';

/** Alertmanager's own default: one receiver, grouped by alert name, default timings. */
export const DEFAULT_ROUTING: RoutingConfig = { route: { receiver: 'default', group_by: ['alertname'] } };

/** A validated routing configuration, parsed once. */
export interface Routing {
  readonly config: RoutingConfig;
  readonly tree: Route;
  readonly inhibitRules: readonly InhibitRule[];
  /** `time_intervals` and the deprecated `mute_time_intervals`, by name. */
  readonly timeIntervals: TimeIntervals;
}

const KNOWN_KEYS = new Set(['route', 'inhibit_rules', 'time_intervals', 'mute_time_intervals']);

/**
 * Validates the routing subset of alertmanager.yml: `route` (required), `inhibit_rules`,
 * `time_intervals` and `mute_time_intervals`. Any other key is refused by name rather than ignored.
 */
export function parseRouting(input: unknown): Routing {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('The routing configuration must be an object with a "route"', [
      { path: '', message: 'expected an object' },
    ]);
  }
  const record = input as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !KNOWN_KEYS.has(key));
  if (unknown.length > 0) {
    throw new ValidationError(
      `Unsupported routing keys: ${unknown.join(', ')} (supported: ${[...KNOWN_KEYS].join(', ')})`,
      unknown.map((key) => ({ path: key, message: 'not supported' })),
    );
  }
  if (record.route === undefined) {
    throw new ValidationError('route is required', [{ path: 'route', message: 'required' }]);
  }
  // The intervals' problems and the tree's come in one error; a route naming an interval defined
  // with problems is not reported again.
  const issues: Issue[] = [];
  const timeIntervals = collectTimeIntervals(record, issues);
  let tree: Route | undefined;
  try {
    tree = parseRouteTree(record.route, new Set(timeIntervals.keys()));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    issues.push(...error.issues);
  }
  if (issues.length > 0 || !tree) {
    throw ValidationError.listing('Invalid routing', issues);
  }
  const inhibitRules = parseInhibitRules(record.inhibit_rules ?? []);
  return { config: input as RoutingConfig, tree, inhibitRules, timeIntervals };
}

/**
 * The routing in force: the one set at run time when there is one, else the stage's default.
 * Parsed results are kept per configuration text, so a warm function parses once per change.
 */
export class RoutingSource {
  private readonly cache = new Map<string, Routing>();
  private readonly fallback: Routing;

  constructor(
    private readonly store: RoutingStore,
    stageDefault: RoutingConfig = DEFAULT_ROUTING,
  ) {
    this.fallback = parseRouting(stageDefault);
  }

  async current(): Promise<Routing> {
    const stored = await this.store.get();
    if (!stored) return this.fallback;
    const text = JSON.stringify(stored.config);
    let routing = this.cache.get(text);
    if (!routing) {
      routing = parseRouting(stored.config);
      this.cache.clear();
      this.cache.set(text, routing);
    }
    return routing;
  }
}
