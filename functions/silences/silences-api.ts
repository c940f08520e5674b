import { type LabelMatcher, parseMatcherTexts } from '../shared/domain/alerting/dispatch/labels';
import {
  expireSilence,
  type Silence,
  type SilenceState,
  silenceState,
  validateSilence,
} from '../shared/domain/alerting/dispatch/silence';
import type { SilenceStore } from '../shared/domain/alerting/stores';
import { ConflictError, type Issue, NotFoundError, ValidationError } from '../shared/errors';
import type { Clock } from '../shared/ports';

/** A silence as the API shows it: ISO times and its current state, Alertmanager-style. */
export interface SilenceView {
  readonly id: string;
  readonly matchers: Silence['matchers'];
  readonly startsAt: string;
  readonly endsAt: string;
  readonly updatedAt: string;
  readonly createdBy: string;
  readonly comment: string;
  readonly status: { readonly state: SilenceState };
}

export function view(silence: Silence, now: number): SilenceView {
  return {
    id: silence.id,
    matchers: silence.matchers,
    startsAt: new Date(silence.startsAt).toISOString(),
    endsAt: new Date(silence.endsAt).toISOString(),
    updatedAt: new Date(silence.updatedAt ?? silence.startsAt).toISOString(),
    createdBy: silence.createdBy,
    comment: silence.comment,
    status: { state: silenceState(silence, now) },
  };
}

function time(value: unknown, path: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const parsed = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed))
    throw new ValidationError(`${path} must be an ISO 8601 time`, [
      { path, message: 'expected an ISO 8601 time' },
    ]);
  return parsed;
}

/**
 * POST /api/silences: `{matchers:[{name,value,isRegex,isEqual?}], startsAt?, endsAt, createdBy, comment}`.
 * `startsAt` defaults to now; a silence that would already be expired is refused.
 */
export async function createSilence(
  body: unknown,
  store: SilenceStore,
  clock: Clock,
  newId: () => string,
): Promise<SilenceView> {
  const now = clock();
  const input = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<
    string,
    unknown
  >;
  // Alertmanager's API updates a silence by posting it with its id: the id must exist.
  if (input.id !== undefined) {
    if (typeof input.id !== 'string' || !(await store.get(input.id))) {
      throw new NotFoundError(`No silence ${typeof input.id === 'string' ? input.id : ''} to update`);
    }
    const { id } = input;
    newId = () => id;
  }
  const matchers = Array.isArray(input.matchers)
    ? input.matchers.map(
        (m) => (typeof m === 'object' && m !== null ? { isEqual: true, ...m } : m) as unknown,
      )
    : input.matchers;
  const candidate = {
    id: newId(),
    matchers,
    startsAt: time(input.startsAt, 'startsAt', now),
    endsAt: time(input.endsAt, 'endsAt'),
    createdBy: input.createdBy,
    comment: input.comment,
    updatedAt: now,
  };
  validateSilence(candidate, now);
  const silence = candidate as Silence;
  await store.put(silence);
  return view(silence, now);
}

/** GET /api/silences[?state=active|pending|expired]. */
export async function listSilences(
  store: SilenceStore,
  clock: Clock,
  state?: string,
): Promise<SilenceView[]> {
  if (state !== undefined && !['active', 'pending', 'expired'].includes(state)) {
    throw new ValidationError('state must be active, pending or expired');
  }
  const now = clock();
  return (await store.list())
    .map((s) => view(s, now))
    .filter((s) => state === undefined || s.status.state === state);
}

/**
 * GET /api/v2/silences[?filter=…]: Alertmanager's `getSilences`. Each `filter` (repeated, read from
 * the raw query string as in GET /api/v2/alerts) keeps the silences having a matcher with the same
 * name, operator and value (`amtool silence query job=x` finds the silences on `job="x"`, not every
 * silence that would mute such an alert). Sorted as Alertmanager sorts: active (soonest end first),
 * then pending (soonest start first), then expired (latest end first).
 */
export async function listSilencesV2(
  rawQueryString: string,
  store: SilenceStore,
  clock: Clock,
): Promise<SilenceView[]> {
  const params = new URLSearchParams(rawQueryString);
  const issues: Issue[] = [];
  for (const key of new Set(params.keys())) {
    if (key !== 'filter') issues.push({ path: key, message: 'unknown parameter' });
  }
  const filter = parseMatcherTexts(params.getAll('filter'), 'filter', issues);
  if (issues.length > 0) {
    throw ValidationError.listing('Invalid silence query', issues);
  }
  const now = clock();
  return (await store.list())
    .filter((silence) => filter.every((wanted) => silence.matchers.some((m) => sameMatcher(wanted, m))))
    .map((silence) => view(silence, now))
    .sort(alertmanagerOrder);
}

function sameMatcher(wanted: LabelMatcher, m: Silence['matchers'][number]): boolean {
  const op = m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
  return wanted.label === m.name && wanted.op === op && wanted.value === m.value;
}

const STATE_ORDER: Readonly<Record<SilenceState, number>> = { active: 0, pending: 1, expired: 2 };

function alertmanagerOrder(a: SilenceView, b: SilenceView): number {
  const byState = STATE_ORDER[a.status.state] - STATE_ORDER[b.status.state];
  if (byState !== 0) return byState;
  if (a.status.state === 'pending') return Date.parse(a.startsAt) - Date.parse(b.startsAt);
  const byEnd = Date.parse(a.endsAt) - Date.parse(b.endsAt);
  return a.status.state === 'expired' ? -byEnd : byEnd;
}

/** GET /api/silences/{id}. */
export async function getSilence(id: string, store: SilenceStore, clock: Clock): Promise<SilenceView> {
  const silence = await store.get(id);
  if (!silence) throw new NotFoundError(`No silence ${id}`);
  return view(silence, clock());
}

/** DELETE /api/silences/{id}: expires it now (it stays listed, as in Alertmanager). */
export async function expire(id: string, store: SilenceStore, clock: Clock): Promise<SilenceView> {
  const now = clock();
  const silence = await store.get(id);
  if (!silence) throw new NotFoundError(`No silence ${id}`);
  if (silenceState(silence, now) === 'expired') throw new ConflictError(`Silence ${id} has already expired`);
  const expired = expireSilence(silence, now);
  await store.put(expired);
  return view(expired, now);
}
