import { type Issue, ValidationError } from '../../../errors';
import { describe, preview } from '../../ingest/inspect';
import {
  formatMatchers,
  type LabelMatcher,
  type Labels,
  matchesAll,
  parseMatcherText,
  sortMatchers,
} from './labels';

/**
 * The routing tree, as alertmanager.yml's `route` (Alertmanager's dispatch/route.go):
 *
 * ```yaml
 * receiver: default            # required at the root; children inherit it when unset
 * group_by: [alertname]        # or ['...'] to group by every label
 * group_wait: 30s              # default 30s
 * group_interval: 5m           # default 5m
 * repeat_interval: 4h          # default 4h
 * flap_detection: { transitions: 4, window: 30m, stable: 10m }   # Pulseboard's own; enabled by default
 * routes:
 *   - matchers: ['severity="critical"', 'env=~"prod|stage"']
 *     receiver: pager
 *     continue: true
 *     mute_time_intervals: [weekends]        # names from time_intervals (time-intervals.ts)
 *     active_time_intervals: [business-hours]
 * ```
 *
 * A child inherits every setting it leaves unset from its parent, except the time intervals: as
 * in Alertmanager (dispatch/route.go sets `opts.MuteTimeIntervals = cr.MuteTimeIntervals`), a
 * route has only the ones it names. `match`/`match_re` (the deprecated maps) are accepted and
 * become `=`/`=~` matchers, as Alertmanager does.
 */

export interface FlapSettings {
  readonly enabled: boolean;
  /** An alert is flapping when its status changed more than this many times within `windowMs`. */
  readonly transitions: number;
  readonly windowMs: number;
  /** A flapping alert stops flapping after this long without a status change. */
  readonly stableMs: number;
}

export interface RouteSettings {
  readonly receiver: string;
  /** Label names, or `'all'` for `group_by: ['...']`. Empty: one group for the whole route. */
  readonly groupBy: readonly string[] | 'all';
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
  readonly flap: FlapSettings;
  /** Interval names: no notifications while one is active. Absent: none (groups stored before they existed). */
  readonly muteTimeIntervals?: readonly string[];
  /** Interval names: notifications only while one is active. Absent or empty: always. */
  readonly activeTimeIntervals?: readonly string[];
}

export interface Route extends RouteSettings {
  /** Unique in the tree: the index path, `root`, `root.0`, `root.0.2`. Group ids start with it. */
  readonly id: string;
  /** Alertmanager's `Route.Key()`: the parents' keys and this route's matchers, `{}/{severity="critical"}`. */
  readonly key: string;
  /** Sorted as Alertmanager sorts them (name, value, type). */
  readonly matchers: readonly LabelMatcher[];
  readonly continue: boolean;
  readonly muteTimeIntervals: readonly string[];
  readonly activeTimeIntervals: readonly string[];
  readonly routes: readonly Route[];
}

/** The config object (alertmanager.yml's keys). Durations are strings like `30s`, `5m`, `1h30m`. */
export interface RouteConfig {
  readonly receiver?: string;
  readonly matchers?: readonly string[];
  readonly match?: Readonly<Record<string, string>>;
  readonly match_re?: Readonly<Record<string, string>>;
  readonly group_by?: readonly string[];
  readonly group_wait?: string;
  readonly group_interval?: string;
  readonly repeat_interval?: string;
  readonly continue?: boolean;
  readonly flap_detection?: false | FlapDetectionConfig;
  readonly mute_time_intervals?: readonly string[];
  readonly active_time_intervals?: readonly string[];
  readonly routes?: readonly RouteConfig[];
}

export interface FlapDetectionConfig {
  readonly transitions?: number;
  readonly window?: string;
  readonly stable?: string;
}

export const DEFAULT_GROUP_WAIT_MS = 30_000;
export const DEFAULT_GROUP_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_REPEAT_INTERVAL_MS = 4 * 3_600_000;
export const DEFAULT_FLAP: FlapSettings = {
  enabled: true,
  transitions: 4,
  windowMs: 30 * 60_000,
  stableMs: 10 * 60_000,
};
/** Deeper trees are refused: routing walks them recursively. */
export const MAX_ROUTE_DEPTH = 16;
export const MAX_ROUTES = 1_000;

const KNOWN_KEYS = new Set([
  'receiver',
  'matchers',
  'match',
  'match_re',
  'group_by',
  'group_wait',
  'group_interval',
  'repeat_interval',
  'continue',
  'flap_detection',
  'mute_time_intervals',
  'active_time_intervals',
  'routes',
]);

/**
 * Parses and validates a route tree. Collects every problem before throwing one
 * {@link ValidationError} whose `issues` name each path (`route.routes[1].group_wait`).
 * `timeIntervals` are the names defined at the top level; a route naming another is refused.
 */
export function parseRouteTree(config: unknown, timeIntervals: ReadonlySet<string> = new Set()): Route {
  const issues: Issue[] = [];
  const walk = { routes: 0, timeIntervals };
  const root = parseRoute(config, undefined, 'route', 'root', '', 0, issues, walk);
  if (isObject(config)) {
    if (typeof config.receiver !== 'string' || config.receiver === '') {
      issues.push({ path: 'route.receiver', message: 'the root route must name a default receiver' });
    }
    if (config.matchers !== undefined || config.match !== undefined || config.match_re !== undefined) {
      issues.push({ path: 'route.matchers', message: 'the root route must not have any matchers' });
    }
    if (config.continue === true) {
      issues.push({ path: 'route.continue', message: 'the root route cannot have continue' });
    }
    for (const key of ['mute_time_intervals', 'active_time_intervals']) {
      const names = config[key];
      if (Array.isArray(names) && names.length > 0)
        issues.push({ path: `route.${key}`, message: `the root route must not have ${key}` });
    }
  }
  if (issues.length > 0 || !root) {
    throw ValidationError.listing('Invalid route tree', issues);
  }
  return root;
}

function parseRoute(
  config: unknown,
  parent: Route | undefined,
  path: string,
  id: string,
  parentKey: string,
  depth: number,
  issues: Issue[],
  /** Shared by the whole walk: routes seen so far, interval names defined. */
  walk: { routes: number; readonly timeIntervals: ReadonlySet<string> },
): Route | undefined {
  if (!isObject(config)) {
    issues.push({ path, message: 'a route is an object' });
    return undefined;
  }
  walk.routes++;
  if (walk.routes > MAX_ROUTES) {
    if (walk.routes === MAX_ROUTES + 1) issues.push({ path, message: `more than ${MAX_ROUTES} routes` });
    return undefined;
  }
  if (depth >= MAX_ROUTE_DEPTH) {
    issues.push({ path, message: `routes nest deeper than ${MAX_ROUTE_DEPTH} levels` });
    return undefined;
  }
  for (const key of Object.keys(config)) {
    if (!KNOWN_KEYS.has(key)) issues.push({ path: `${path}.${key}`, message: 'unknown setting' });
  }
  const matchers = sortMatchers(parseRouteMatchers(config, path, issues));
  const key = parentKey === '' ? formatMatchers(matchers) : `${parentKey}/${formatMatchers(matchers)}`;
  const inherited: RouteSettings = parent ?? {
    receiver: '',
    groupBy: [],
    groupWaitMs: DEFAULT_GROUP_WAIT_MS,
    groupIntervalMs: DEFAULT_GROUP_INTERVAL_MS,
    repeatIntervalMs: DEFAULT_REPEAT_INTERVAL_MS,
    flap: DEFAULT_FLAP,
  };
  let receiver = inherited.receiver;
  if (config.receiver !== undefined) {
    if (typeof config.receiver !== 'string' || config.receiver === '' || config.receiver.length > 200) {
      issues.push({ path: `${path}.receiver`, message: 'a receiver is a name of 1 to 200 characters' });
    } else receiver = config.receiver;
  }
  const groupBy =
    config.group_by === undefined ? inherited.groupBy : parseGroupBy(config.group_by, path, issues);
  const duration = (name: string, fallback: number): number => {
    const value = config[name];
    if (value === undefined) return fallback;
    const ms = parsePromDuration(value);
    if (ms === undefined) {
      issues.push({
        path: `${path}.${name}`,
        message: `${typeof value === 'string' ? preview(value) : describe(value)} is not a duration like 30s, 5m, 1h30m`,
      });
      return fallback;
    }
    if (ms === 0 && name !== 'group_wait') {
      issues.push({ path: `${path}.${name}`, message: `${name} cannot be zero` });
      return fallback;
    }
    return ms;
  };
  let cont = false;
  if (config.continue !== undefined) {
    if (typeof config.continue !== 'boolean')
      issues.push({ path: `${path}.continue`, message: 'expected true or false' });
    else cont = config.continue;
  }
  const route: Route = {
    id,
    key,
    matchers,
    continue: cont,
    receiver,
    groupBy,
    groupWaitMs: duration('group_wait', inherited.groupWaitMs),
    groupIntervalMs: duration('group_interval', inherited.groupIntervalMs),
    repeatIntervalMs: duration('repeat_interval', inherited.repeatIntervalMs),
    flap: parseFlap(config.flap_detection, inherited.flap, `${path}.flap_detection`, issues),
    muteTimeIntervals: parseIntervalNames(config, 'mute_time_intervals', path, walk.timeIntervals, issues),
    activeTimeIntervals: parseIntervalNames(
      config,
      'active_time_intervals',
      path,
      walk.timeIntervals,
      issues,
    ),
    routes: [],
  };
  if (config.routes !== undefined) {
    if (!Array.isArray(config.routes)) {
      issues.push({ path: `${path}.routes`, message: 'expected a list of routes' });
    } else {
      const children = config.routes
        .map((child, i) =>
          parseRoute(child, route, `${path}.routes[${i}]`, `${id}.${i}`, key, depth + 1, issues, walk),
        )
        .filter((child): child is Route => child !== undefined);
      (route as { routes: readonly Route[] }).routes = children;
    }
  }
  return route;
}

function parseRouteMatchers(config: Record<string, unknown>, path: string, issues: Issue[]): LabelMatcher[] {
  const out: LabelMatcher[] = [];
  const attempt = (text: string, at: string) => {
    try {
      out.push(...parseMatcherText(text, at));
    } catch (error) {
      if (error instanceof ValidationError) issues.push(...error.issues);
      else throw error;
    }
  };
  if (config.matchers !== undefined) {
    if (!Array.isArray(config.matchers))
      issues.push({ path: `${path}.matchers`, message: 'expected a list of strings' });
    else
      config.matchers.forEach((text, i) => {
        attempt(text as string, `${path}.matchers[${i}]`);
      });
  }
  for (const [field, op] of [
    ['match', '='],
    ['match_re', '=~'],
  ] as const) {
    const map = config[field];
    if (map === undefined) continue;
    if (!isObject(map)) {
      issues.push({ path: `${path}.${field}`, message: 'expected a map of label names to values' });
      continue;
    }
    for (const [name, value] of Object.entries(map)) {
      if (typeof value !== 'string')
        issues.push({ path: `${path}.${field}.${name}`, message: 'expected a string' });
      else attempt(`${name}${op}${JSON.stringify(value)}`, `${path}.${field}.${name}`);
    }
  }
  return out;
}

/** A route's own interval names (never inherited), each defined at the top level. */
function parseIntervalNames(
  config: Record<string, unknown>,
  key: 'mute_time_intervals' | 'active_time_intervals',
  path: string,
  defined: ReadonlySet<string>,
  issues: Issue[],
): readonly string[] {
  const value = config[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    issues.push({ path: `${path}.${key}`, message: 'expected a list of time interval names' });
    return [];
  }
  const names: string[] = [];
  value.forEach((name: unknown, i) => {
    const at = `${path}.${key}[${i}]`;
    if (typeof name !== 'string')
      issues.push({ path: at, message: `expected a name, not ${describe(name)}` });
    else if (!defined.has(name))
      issues.push({ path: at, message: `time interval ${preview(name)} is not defined in time_intervals` });
    else names.push(name);
  });
  return names;
}

function parseGroupBy(value: unknown, path: string, issues: Issue[]): readonly string[] | 'all' {
  const at = `${path}.group_by`;
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string')) {
    issues.push({ path: at, message: "expected a list of label names, or ['...']" });
    return [];
  }
  const names = value as string[];
  if (names.includes('...')) {
    if (names.length > 1)
      issues.push({ path: at, message: "cannot have '...' and other labels at the same time" });
    return 'all';
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name))
      issues.push({ path: at, message: `invalid label name ${JSON.stringify(name)}` });
    if (seen.has(name)) issues.push({ path: at, message: `duplicated label ${JSON.stringify(name)}` });
    seen.add(name);
  }
  return [...seen];
}

function parseFlap(value: unknown, inherited: FlapSettings, path: string, issues: Issue[]): FlapSettings {
  if (value === undefined) return inherited;
  if (value === false) return { ...inherited, enabled: false };
  if (!isObject(value)) {
    issues.push({ path, message: 'expected false or { transitions, window, stable }' });
    return inherited;
  }
  const out = { ...inherited, enabled: true };
  if (value.transitions !== undefined) {
    const n = value.transitions;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100) {
      issues.push({ path: `${path}.transitions`, message: 'expected an integer from 1 to 100' });
    } else out.transitions = n;
  }
  for (const [key, field] of [
    ['window', 'windowMs'],
    ['stable', 'stableMs'],
  ] as const) {
    if (value[key] === undefined) continue;
    const ms = parsePromDuration(value[key]);
    if (ms === undefined || ms === 0)
      issues.push({ path: `${path}.${key}`, message: 'expected a non-zero duration like 30m' });
    else out[field] = ms;
  }
  return out;
}

const DURATION_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['y', 365 * 86_400_000],
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];
const PROM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Prometheus's duration format (`model.ParseDuration`): `0`, `30s`, `1h30m`, `2d`, units in order y w d h m s ms. */
export function parsePromDuration(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (value === '0') return 0;
  const m = PROM_DURATION.exec(value);
  if (!m) return undefined;
  let total = 0;
  DURATION_UNITS.forEach(([, ms], i) => {
    const part = m[i + 1];
    if (part !== undefined) total += Number(part) * ms;
  });
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * The routes an alert goes to, as Alertmanager's `Route.Match`: depth first; a route that matches
 * descends into its children, stopping after the first child that matched unless that child has
 * `continue`; a matching route none of whose children matched is itself the result.
 */
export function matchRoutes(route: Route, labels: Labels): Route[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const all: Route[] = [];
  for (const child of route.routes) {
    const found = matchRoutes(child, labels);
    all.push(...found);
    if (found.length > 0 && !child.continue) break;
  }
  return all.length === 0 ? [route] : all;
}

/** The route with this id, if the tree still has it. */
export function findRoute(route: Route, id: string): Route | undefined {
  if (route.id === id) return route;
  if (!id.startsWith(`${route.id}.`)) return undefined;
  for (const child of route.routes) {
    const found = findRoute(child, id);
    if (found) return found;
  }
  return undefined;
}

/** The labels an alert is grouped by on a route: the `group_by` labels it has (all for `...`). */
export function groupLabelsFor(route: RouteSettings, labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(labels)) {
    if (route.groupBy === 'all' || route.groupBy.includes(name)) out[name] = labels[name] as string;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
