import { describe, expect, it } from 'vitest';
import { expirePostedAlerts, receivePostedAlerts } from '../../../../functions/shared/alerting/posted-alerts';
import { fingerprint } from '../../../../functions/shared/domain/alerting/fingerprint';
import {
  DEFAULT_RESOLVE_TIMEOUT_MS,
  type PostedAlert,
  parsePostableAlerts,
} from '../../../../functions/shared/domain/alerting/postable';
import type { PostedAlertStore } from '../../../../functions/shared/domain/alerting/stores';
import { ValidationError } from '../../../../functions/shared/errors';
import { MemoryEventBus } from './memory-ports';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const labels = { alertname: 'HighLatency', job: 'api', severity: 'critical' };

class MemoryPostedStore implements PostedAlertStore {
  readonly items = new Map<string, PostedAlert>();
  async getMany(fingerprints: readonly string[]) {
    return new Map(
      fingerprints.flatMap((fp) => (this.items.has(fp) ? [[fp, this.items.get(fp) as PostedAlert]] : [])),
    );
  }
  async list() {
    return [...this.items.values()];
  }
  async put(alert: PostedAlert) {
    this.items.set(alert.fingerprint, alert);
  }
}

function setup() {
  const posted = new MemoryPostedStore();
  const events = new MemoryEventBus();
  const clock = { now: T0 };
  return { posted, events, clock, deps: { posted, events, clock: () => clock.now } };
}

describe("parsing Alertmanager's postableAlerts", () => {
  it('fingerprints by label set and fills start and end as Alertmanager does', () => {
    const [firing, resolved, endOnly] = parsePostableAlerts(
      [
        { labels },
        { labels: { ...labels, job: 'db' }, startsAt: iso(T0 - 10 * MINUTE), endsAt: iso(T0 - MINUTE) },
        { labels: { ...labels, job: 'web' }, endsAt: iso(T0 + 3 * MINUTE) },
      ],
      T0,
    );
    expect(firing).toMatchObject({
      fingerprint: fingerprint(labels),
      status: 'firing',
      startsAt: T0,
      endsAt: T0 + DEFAULT_RESOLVE_TIMEOUT_MS,
    });
    expect(resolved).toMatchObject({ status: 'resolved', endsAt: T0 - MINUTE });
    expect(endOnly).toMatchObject({ status: 'firing', startsAt: T0, endsAt: T0 + 3 * MINUTE });
  });

  it("reads Go's zero time as not set however it is written, as amtool's alert add sends it", () => {
    const [bare, millis, offset] = parsePostableAlerts(
      ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z', '0001-01-01T00:00:00+00:00'].map((zero) => ({
        labels,
        startsAt: zero,
        endsAt: zero,
      })),
      T0,
    );
    for (const alert of [bare, millis, offset]) {
      expect(alert).toMatchObject({
        status: 'firing',
        startsAt: T0,
        endsAt: T0 + DEFAULT_RESOLVE_TIMEOUT_MS,
      });
    }
  });

  it('refuses a body that is not an array, and names every bad alert by index', () => {
    expect(() => parsePostableAlerts({ labels }, T0)).toThrow(ValidationError);
    try {
      parsePostableAlerts(
        [
          { labels },
          { labels: {} },
          { labels: { 'bad-name': 'x' } },
          { labels, startsAt: 'soon' },
          { labels, colour: 1 },
        ],
        T0,
      );
      expect.unreachable();
    } catch (error) {
      expect((error as ValidationError).issues.map((i) => i.path)).toEqual([
        '[1].labels',
        '[2].labels.bad-name',
        '[3].startsAt',
        '[4].colour',
      ]);
    }
  });
});

describe('receiving posted alerts', () => {
  it('publishes a new alert once, and a re-send that only moves endsAt refreshes it silently', async () => {
    const { events, clock, deps, posted } = setup();
    await receivePostedAlerts(parsePostableAlerts([{ labels, startsAt: iso(T0) }], clock.now), deps);
    clock.now = T0 + MINUTE;
    const resend = await receivePostedAlerts(
      parsePostableAlerts([{ labels, startsAt: iso(T0), endsAt: iso(T0 + 5 * MINUTE) }], clock.now),
      deps,
    );
    expect(resend.published).toBe(0);
    expect(events.published.map((t) => [t.status, t.rule])).toEqual([['firing', 'HighLatency']]);
    expect(posted.items.get(fingerprint(labels))?.endsAt).toBe(T0 + 5 * MINUTE);
  });

  it('publishes a resolution when the sender says the alert ended', async () => {
    const { events, clock, deps } = setup();
    await receivePostedAlerts(parsePostableAlerts([{ labels, startsAt: iso(T0) }], clock.now), deps);
    clock.now = T0 + 2 * MINUTE;
    await receivePostedAlerts(
      parsePostableAlerts([{ labels, startsAt: iso(T0), endsAt: iso(T0 + MINUTE) }], clock.now),
      deps,
    );
    expect(events.published.map((t) => [t.status, t.endsAt])).toEqual([
      ['firing', undefined],
      ['resolved', iso(T0 + MINUTE)],
    ]);
  });

  it('resolves an alert that was not re-sent within resolve_timeout, once, on the schedule', async () => {
    const { events, clock, deps } = setup();
    await receivePostedAlerts(parsePostableAlerts([{ labels }], clock.now), deps);
    clock.now = T0 + DEFAULT_RESOLVE_TIMEOUT_MS - 1;
    expect((await expirePostedAlerts(deps)).resolved).toBe(0);
    clock.now = T0 + DEFAULT_RESOLVE_TIMEOUT_MS;
    expect((await expirePostedAlerts(deps)).resolved).toBe(1);
    expect((await expirePostedAlerts(deps)).resolved).toBe(0);
    expect(events.published.map((t) => [t.status, t.endsAt])).toEqual([
      ['firing', undefined],
      ['resolved', iso(T0 + DEFAULT_RESOLVE_TIMEOUT_MS)],
    ]);
  });

  it('loses nothing when the bus fails: the next re-send publishes again', async () => {
    const { events, clock, deps } = setup();
    events.failNext = 1;
    await expect(receivePostedAlerts(parsePostableAlerts([{ labels }], clock.now), deps)).rejects.toThrow();
    await receivePostedAlerts(parsePostableAlerts([{ labels }], clock.now), deps);
    expect(events.published.map((t) => t.status)).toEqual(['firing']);
  });
});
