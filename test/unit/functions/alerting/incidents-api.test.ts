import { describe, expect, it } from 'vitest';
import {
  ANONYMOUS_ACTOR,
  actOnIncident,
  DEFAULT_PAGE_SIZE,
  getIncident,
  listIncidents,
} from '../../../../functions/incidents/incidents-api';
import {
  acknowledgeIncident,
  appendTimeline,
  type Incident,
  openIncident,
  resolveIncident,
} from '../../../../functions/shared/domain/alerting/dispatch/incident';
import { timeOrderedId } from '../../../../functions/shared/domain/alerting/ids';
import type { IncidentFilter } from '../../../../functions/shared/domain/alerting/stores';
import { NotFoundError, ValidationError } from '../../../../functions/shared/errors';
import { MemoryIncidentStore } from '../../alerting/service/memory-ports';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const MINUTE = 60_000;

function incident(openedAt: number, severity = 'critical'): Incident {
  const opened = openIncident(
    timeOrderedId(openedAt),
    {
      groupId: '{}:{alertname="HighCPU"}|pager',
      groupKey: '{}:{alertname="HighCPU"}',
      receiver: 'pager',
      groupLabels: { alertname: 'HighCPU' },
    },
    openedAt,
  );
  return appendTimeline(opened, [
    {
      type: 'alert_joined',
      at: openedAt,
      fingerprint: 'a1b2c3d4e5f60718',
      labels: { alertname: 'HighCPU', severity },
    },
  ]);
}

/** The memory store, remembering the filter each listing was asked with. */
class RecordingIncidentStore extends MemoryIncidentStore {
  readonly filters: IncidentFilter[] = [];
  reads = 0;

  override async list(filter: IncidentFilter) {
    this.filters.push(filter);
    return super.list(filter);
  }

  override async get(id: string) {
    this.reads++;
    return super.get(id);
  }
}

async function storeWith(...incidents: Incident[]) {
  const store = new RecordingIncidentStore();
  for (const value of incidents) await store.put(value, 1);
  return store;
}

/** The rejection of a call: fails the test unless it is a ValidationError. */
async function validationIssues(call: Promise<unknown>) {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).issues.map((issue) => issue.path);
}

describe('listIncidents', () => {
  it('answers the incidents newest first, as views without their timelines', async () => {
    // Prepare
    const older = incident(T0);
    const newer = incident(T0 + MINUTE, 'warning');
    const store = await storeWith(older, newer);

    // Act
    const page = await listIncidents({}, store);

    // Assess
    expect(page.incidents.map((i) => [i.id, i.severity])).toEqual([
      [newer.id, 'warning'],
      [older.id, 'critical'],
    ]);
    expect(page.incidents[0]).not.toHaveProperty('timeline');
    expect(page).not.toHaveProperty('nextCursor');
  });

  it('passes every filter to the store, parsed: since as epoch ms, limit as a number', async () => {
    // Prepare
    const store = await storeWith();
    const cursor = timeOrderedId(T0);

    // Act
    await listIncidents(
      {
        status: 'acknowledged',
        receiver: 'pager',
        severity: 'critical',
        fingerprint: 'a1b2c3d4e5f60718',
        since: '2026-03-01T11:00:00Z',
        limit: '10',
        cursor,
      },
      store,
    );

    // Assess
    expect(store.filters).toEqual([
      {
        status: 'acknowledged',
        receiver: 'pager',
        severity: 'critical',
        fingerprint: 'a1b2c3d4e5f60718',
        since: T0 - 60 * MINUTE,
        limit: 10,
        cursor,
      },
    ]);
  });

  it('asks for the default page size when no limit is given', async () => {
    // Prepare
    const store = await storeWith();

    // Act
    await listIncidents({ status: 'open' }, store);

    // Assess
    expect(store.filters).toEqual([{ status: 'open', limit: DEFAULT_PAGE_SIZE }]);
  });

  it('filters by status', async () => {
    // Prepare
    const open = incident(T0);
    const acked = acknowledgeIncident(incident(T0 + MINUTE), 'alice', T0 + 2 * MINUTE);
    const store = await storeWith(open, acked);

    // Act
    const page = await listIncidents({ status: 'acknowledged' }, store);

    // Assess
    expect(page.incidents.map((i) => i.id)).toEqual([acked.id]);
  });

  it.each([
    ['an unknown filter', { state: 'open' }, 'state'],
    ['an unknown status', { status: 'closed' }, 'status'],
    ['a fingerprint that is not lower-case hex', { fingerprint: 'A1B2' }, 'fingerprint'],
    ['a fingerprint too long', { fingerprint: 'a'.repeat(65) }, 'fingerprint'],
    ['a since that is not a time', { since: 'yesterday' }, 'since'],
    ['a limit of 0', { limit: '0' }, 'limit'],
    ['a limit of 101', { limit: '101' }, 'limit'],
    ['a fractional limit', { limit: '1.5' }, 'limit'],
    ['a limit that is not a number', { limit: 'ten' }, 'limit'],
    ['a cursor that is not an id', { cursor: 'page-2' }, 'cursor'],
    ['an empty receiver', { receiver: '' }, 'receiver'],
    ['an empty severity', { severity: '' }, 'severity'],
    ['a receiver over 200 characters', { receiver: 'r'.repeat(201) }, 'receiver'],
  ])('refuses %s with a validation error naming it, before reading', async (_, query, path) => {
    // Prepare
    const store = await storeWith(incident(T0));

    // Act
    const paths = await validationIssues(listIncidents(query, store));

    // Assess
    expect(paths).toEqual([path]);
    expect(store.filters).toEqual([]);
  });

  it('names every bad filter at once', async () => {
    // Prepare
    const store = await storeWith();

    // Act
    const paths = await validationIssues(listIncidents({ status: 'x', limit: '0', color: 'red' }, store));

    // Assess
    expect(paths.sort()).toEqual(['color', 'limit', 'status']);
  });

  it('accepts the page size bounds 1 and 100', async () => {
    // Prepare
    const store = await storeWith();

    // Act
    await listIncidents({ limit: '1' }, store);
    await listIncidents({ limit: '100' }, store);

    // Assess
    expect(store.filters.map((f) => f.limit)).toEqual([1, 100]);
  });
});

describe('getIncident', () => {
  it('answers the incident with its whole timeline', async () => {
    // Prepare
    const value = incident(T0);
    const store = await storeWith(value);

    // Act
    const view = await getIncident(value.id, store);

    // Assess
    expect(view).toMatchObject({ id: value.id, status: 'open', openedAt: '2026-03-01T12:00:00.000Z' });
    expect(view.timeline).toEqual([
      expect.objectContaining({ type: 'alert_joined', at: '2026-03-01T12:00:00.000Z' }),
    ]);
  });

  it('answers not found for an id that is not a ULID, without reading the store', async () => {
    // Prepare
    const store = await storeWith(incident(T0));

    // Act
    const outcome = getIncident('../etc/passwd', store);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(NotFoundError);
    expect(store.reads).toBe(0);
  });

  it('answers not found for a well-formed id of no incident', async () => {
    // Prepare
    const store = await storeWith(incident(T0));

    // Act
    const outcome = getIncident(timeOrderedId(T0 + MINUTE), store);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('actOnIncident', () => {
  /** A correlator that applies the domain's ack/resolve to one stored incident and records each call. */
  function correlatorFor(value: Incident) {
    const calls: { action: 'ack' | 'resolve'; id: string; by: string }[] = [];
    return {
      calls,
      correlator: {
        acknowledge: async (id: string, by: string) => {
          calls.push({ action: 'ack', id, by });
          return acknowledgeIncident(value, by, T0 + MINUTE);
        },
        resolve: async (id: string, by: string) => {
          calls.push({ action: 'resolve', id, by });
          return resolveIncident(value, by, T0 + MINUTE);
        },
      },
    };
  }

  it('acknowledges on behalf of the actor the body names', async () => {
    // Prepare
    const value = incident(T0);
    const { correlator, calls } = correlatorFor(value);

    // Act
    const view = await actOnIncident(value.id, 'ack', JSON.parse('{"by":"alice"}'), correlator);

    // Assess
    expect(calls).toEqual([{ action: 'ack', id: value.id, by: 'alice' }]);
    expect(view).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice' });
    expect(view.timeline?.at(-1)).toMatchObject({ type: 'acknowledged', by: 'alice' });
  });

  it('acts as "anonymous" when there is no body', async () => {
    // Prepare
    const value = incident(T0);
    const { correlator, calls } = correlatorFor(value);

    // Act
    const view = await actOnIncident(value.id, 'resolve', undefined, correlator);

    // Assess
    expect(ANONYMOUS_ACTOR).toBe('anonymous');
    expect(calls).toEqual([{ action: 'resolve', id: value.id, by: 'anonymous' }]);
    expect(view).toMatchObject({ status: 'resolved', resolvedBy: 'anonymous' });
  });

  it('acts as "anonymous" for an empty object body', async () => {
    // Prepare
    const value = incident(T0);
    const { correlator, calls } = correlatorFor(value);

    // Act
    await actOnIncident(value.id, 'ack', {}, correlator);

    // Assess
    expect(calls).toEqual([{ action: 'ack', id: value.id, by: 'anonymous' }]);
  });

  it.each([
    ['an unknown field', { by: 'alice', reason: 'noise' }, 'reason'],
    ['an empty actor', { by: '' }, 'by'],
    ['a blank actor', { by: '   ' }, 'by'],
    ['an actor that is not text', { by: 42 }, 'by'],
    ['an actor over 200 characters', { by: 'a'.repeat(201) }, 'by'],
    ['a body that is text', 'alice', ''],
    ['a body that is an array', ['alice'], ''],
  ])('refuses %s with a validation error naming it, and acts on nothing', async (_, body, path) => {
    // Prepare
    const value = incident(T0);
    const { correlator, calls } = correlatorFor(value);

    // Act
    const paths = await validationIssues(actOnIncident(value.id, 'ack', body, correlator));

    // Assess
    expect(paths).toEqual([path]);
    expect(calls).toEqual([]);
  });

  it('answers not found for an id that is not a ULID, and acts on nothing', async () => {
    // Prepare
    const { correlator, calls } = correlatorFor(incident(T0));

    // Act
    const outcome = actOnIncident('not-an-id', 'resolve', { by: 'alice' }, correlator);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(NotFoundError);
    expect(calls).toEqual([]);
  });
});
