import type { RoutingSource } from '../shared/alerting/routing';
import { routeAlert } from '../shared/domain/alerting/dispatch/dispatcher';
import { inhibitedBy, isInhibitionSource } from '../shared/domain/alerting/dispatch/inhibit';
import { type LabelMatcher, matchesAll, parseMatcherTexts } from '../shared/domain/alerting/dispatch/labels';
import { isSilenced } from '../shared/domain/alerting/dispatch/silence';
import { DEFAULT_RESOLVE_TIMEOUT_MS } from '../shared/domain/alerting/postable';
import type { AlertRecord, AlertsView, SilenceStore } from '../shared/domain/alerting/stores';
import { regexProblem } from '../shared/domain/channels';
import { type Issue, ValidationError } from '../shared/errors';
import type { Clock } from '../shared/ports';

/** Alertmanager's `gettableAlert`. */
export interface GettableAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly updatedAt: string;
  readonly fingerprint: string;
  readonly generatorURL: string;
  readonly receivers: readonly { readonly name: string }[];
  readonly status: {
    readonly state: 'active' | 'suppressed';
    readonly silencedBy: readonly string[];
    readonly inhibitedBy: readonly string[];
  };
}

export interface AlertGroup {
  readonly labels: Readonly<Record<string, string>>;
  readonly receiver: { readonly name: string };
  readonly alerts: readonly GettableAlert[];
}

export interface AlertQueryDeps {
  readonly alerts: AlertsView;
  readonly silences: SilenceStore;
  readonly routing: RoutingSource;
  readonly clock: Clock;
}

interface AlertQuery {
  readonly filter: readonly LabelMatcher[];
  readonly active: boolean;
  readonly silenced: boolean;
  readonly inhibited: boolean;
  readonly receiver?: RegExp;
}

const PARAMS = new Set(['filter', 'active', 'silenced', 'inhibited', 'unprocessed', 'receiver']);

/**
 * Reads Alertmanager's query (`filter` repeated, `active`, `silenced`, `inhibited`,
 * `unprocessed`, `receiver`) from the raw query string: API Gateway joins repeated parameters
 * with commas in `queryStringParameters`, which would break matchers containing commas.
 */
export function parseAlertQuery(rawQueryString: string): AlertQuery {
  const params = new URLSearchParams(rawQueryString);
  const issues: Issue[] = [];
  for (const key of new Set(params.keys())) {
    if (!PARAMS.has(key)) issues.push({ path: key, message: 'unknown parameter' });
  }
  const filter = parseMatcherTexts(params.getAll('filter'), 'filter', issues);
  const flag = (name: string): boolean => {
    const value = params.get(name);
    if (value === null || value === 'true') return true;
    if (value !== 'false') issues.push({ path: name, message: 'expected true or false' });
    return false;
  };
  const query = {
    filter,
    active: flag('active'),
    silenced: flag('silenced'),
    inhibited: flag('inhibited'),
  };
  flag('unprocessed');
  const receiverText = params.get('receiver');
  let receiver: RegExp | undefined;
  if (receiverText !== null) {
    const problem = regexProblem(receiverText);
    if (problem) issues.push({ path: 'receiver', message: `the regex ${problem}` });
    else {
      try {
        receiver = new RegExp(`^(?:${receiverText})$`);
      } catch {
        issues.push({ path: 'receiver', message: 'not a valid regex' });
      }
    }
  }
  if (issues.length > 0) {
    throw ValidationError.listing('Invalid alert query', issues);
  }
  return { ...query, ...(receiver ? { receiver } : {}) };
}

/** GET /api/v2/alerts: the firing alerts, each with who silences or inhibits it and where it routes. */
export async function listAlertsV2(rawQueryString: string, deps: AlertQueryDeps): Promise<GettableAlert[]> {
  const query = parseAlertQuery(rawQueryString);
  const { alerts } = await view(query, deps);
  return alerts;
}

/** GET /api/v2/alerts/groups: the same alerts, by aggregation group and receiver. */
export async function listAlertGroupsV2(rawQueryString: string, deps: AlertQueryDeps): Promise<AlertGroup[]> {
  const query = parseAlertQuery(rawQueryString);
  const { alerts, routing } = await view(query, deps);
  const groups = new Map<
    string,
    { labels: Record<string, string>; receiver: { name: string }; alerts: GettableAlert[] }
  >();
  for (const alert of alerts) {
    for (const target of routeAlert(routing.tree, alert.labels)) {
      if (query.receiver && !query.receiver.test(target.route.receiver)) continue;
      const group = groups.get(target.groupId) ?? {
        labels: target.groupLabels,
        receiver: { name: target.route.receiver },
        alerts: [],
      };
      group.alerts.push(alert);
      groups.set(target.groupId, group);
    }
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, group]) => group);
}

async function view(query: AlertQuery, deps: AlertQueryDeps) {
  const now = deps.clock();
  const [records, silences, routing] = await Promise.all([
    deps.alerts.list(),
    deps.silences.list(),
    deps.routing.current(),
  ]);
  const firing = records.filter((record) => record.status === 'firing');
  const sources = {
    firing: firing.filter((record) => isInhibitionSource(record.labels, routing.inhibitRules)),
  };
  const alerts = firing
    .filter((record) => matchesAll(query.filter, record.labels))
    .map((record) => gettable(record, routing, silences, sources, now))
    .filter((alert) => {
      if (!query.active && alert.status.state === 'active') return false;
      if (!query.silenced && alert.status.silencedBy.length > 0) return false;
      if (!query.inhibited && alert.status.inhibitedBy.length > 0) return false;
      return !query.receiver || alert.receivers.some((r) => query.receiver?.test(r.name));
    })
    .sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
  return { alerts, routing };
}

function gettable(
  record: AlertRecord,
  routing: Awaited<ReturnType<RoutingSource['current']>>,
  silences: Parameters<typeof isSilenced>[1],
  sources: Parameters<typeof inhibitedBy>[2],
  now: number,
): GettableAlert {
  const silencedBy = isSilenced(record.labels, silences, now);
  const inhibitor = inhibitedBy(record.labels, routing.inhibitRules, sources);
  const inhibited = inhibitor === undefined || inhibitor === record.fingerprint ? [] : [inhibitor];
  const receivers = [...new Set(routeAlert(routing.tree, record.labels).map((t) => t.route.receiver))];
  return {
    labels: record.labels,
    annotations: record.annotations ?? {},
    startsAt: new Date(record.startsAt ?? record.at).toISOString(),
    // A firing alert without an end of its own ends resolve_timeout after its last update, as in Alertmanager.
    endsAt: new Date(record.endsAt ?? record.at + DEFAULT_RESOLVE_TIMEOUT_MS).toISOString(),
    updatedAt: new Date(record.at).toISOString(),
    fingerprint: record.fingerprint,
    generatorURL: record.generatorURL ?? '',
    receivers: receivers.map((name) => ({ name })),
    status: {
      state: silencedBy.length > 0 || inhibited.length > 0 ? 'suppressed' : 'active',
      silencedBy,
      inhibitedBy: inhibited,
    },
  };
}
