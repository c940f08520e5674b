import type { CorrelatorService } from '../shared/alerting/correlator-service';
import { type IncidentView, incidentView } from '../shared/alerting/views';
import type { IncidentStatus } from '../shared/domain/alerting/dispatch/incident';
import { isTimeOrderedId } from '../shared/domain/alerting/ids';
import type { IncidentFilter, IncidentStore } from '../shared/domain/alerting/stores';
import { type Issue, NotFoundError, ValidationError } from '../shared/errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;
const STATUSES: readonly IncidentStatus[] = ['open', 'acknowledged', 'resolved'];
const FILTERS = new Set(['status', 'receiver', 'severity', 'fingerprint', 'since', 'limit', 'cursor']);
/** Who acts when the request names no one; #5 replaces it with the caller's identity. */
export const ANONYMOUS_ACTOR = 'anonymous';

/** GET /api/incidents: newest first, filtered by `status`, `receiver`, `severity`, `fingerprint`, `since`; paged by `cursor`. */
export async function listIncidents(
  query: Readonly<Record<string, string | undefined>>,
  store: IncidentStore,
): Promise<{ incidents: IncidentView[]; nextCursor?: string }> {
  const page = await store.list(parseFilter(query));
  return {
    incidents: page.incidents.map((incident) => incidentView(incident)),
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  };
}

/** GET /api/incidents/{id}: the incident with its whole timeline. */
export async function getIncident(id: string, store: IncidentStore): Promise<IncidentView> {
  const incident = isTimeOrderedId(id) ? await store.get(id) : undefined;
  if (!incident) throw new NotFoundError(`Incident ${id} does not exist`);
  return incidentView(incident, { timeline: true });
}

/** POST /api/incidents/{id}/ack and …/resolve, with an optional `{"by": "<who>"}`. */
export async function actOnIncident(
  id: string,
  action: 'ack' | 'resolve',
  body: unknown,
  correlator: Pick<CorrelatorService, 'acknowledge' | 'resolve'>,
): Promise<IncidentView> {
  if (!isTimeOrderedId(id)) throw new NotFoundError(`Incident ${id} does not exist`);
  const by = readActor(body);
  const incident = action === 'ack' ? await correlator.acknowledge(id, by) : await correlator.resolve(id, by);
  return incidentView(incident, { timeline: true });
}

function readActor(body: unknown): string {
  if (body === undefined || body === null) return ANONYMOUS_ACTOR;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('The body must be a JSON object like {"by": "alice"}', [
      { path: '', message: 'expected an object' },
    ]);
  }
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => key !== 'by');
  if (unknown.length > 0) {
    throw new ValidationError(
      `Unknown field(s): ${unknown.join(', ')} (expected "by")`,
      unknown.map((path) => ({ path, message: 'unknown field' })),
    );
  }
  if (record.by === undefined) return ANONYMOUS_ACTOR;
  if (typeof record.by !== 'string' || record.by.trim() === '' || record.by.length > 200) {
    throw new ValidationError('by must be 1 to 200 characters', [
      { path: 'by', message: 'expected 1 to 200 characters' },
    ]);
  }
  return record.by.trim();
}

function parseFilter(query: Readonly<Record<string, string | undefined>>): IncidentFilter {
  const issues: Issue[] = [];
  for (const key of Object.keys(query)) {
    if (!FILTERS.has(key))
      issues.push({ path: key, message: `unknown filter (expected ${[...FILTERS].join(', ')})` });
  }
  const { status, receiver, severity, fingerprint, since, limit, cursor } = query;
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
    issues.push({ path: 'status', message: `expected one of ${STATUSES.join(', ')}` });
  }
  if (fingerprint !== undefined && !/^[0-9a-f]{1,64}$/.test(fingerprint)) {
    issues.push({ path: 'fingerprint', message: 'expected lower-case hex digits' });
  }
  const sinceMs = since === undefined ? undefined : Date.parse(since);
  if (sinceMs !== undefined && Number.isNaN(sinceMs))
    issues.push({ path: 'since', message: 'expected an ISO 8601 time' });
  const size = limit === undefined ? DEFAULT_PAGE_SIZE : Number(limit);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    issues.push({ path: 'limit', message: `expected an integer from 1 to ${MAX_PAGE_SIZE}` });
  }
  if (cursor !== undefined && !isTimeOrderedId(cursor))
    issues.push({ path: 'cursor', message: 'expected a nextCursor from an earlier page' });
  for (const [path, value] of [
    ['receiver', receiver],
    ['severity', severity],
  ] as const) {
    if (value !== undefined && (value === '' || value.length > 200))
      issues.push({ path, message: 'expected 1 to 200 characters' });
  }
  if (issues.length > 0) {
    throw ValidationError.listing('Invalid incident filter', issues);
  }
  return {
    ...(status === undefined ? {} : { status: status as IncidentStatus }),
    ...(receiver === undefined ? {} : { receiver }),
    ...(severity === undefined ? {} : { severity }),
    ...(fingerprint === undefined ? {} : { fingerprint }),
    ...(sinceMs === undefined ? {} : { since: sinceMs }),
    ...(cursor === undefined ? {} : { cursor }),
    limit: size,
  };
}
