import { describe, expect, it } from 'vitest';
import {
  type EvaluationResult,
  evaluateAbsentSelector,
  evaluateOnPoints,
  evaluateOnSchedule,
  type Sample,
  type SeriesAlertState,
  staleAfterMs,
} from '../../../functions/shared/domain/alerting/evaluation';
import { fingerprint } from '../../../functions/shared/domain/alerting/fingerprint';
import { type AlertRule, parseRule } from '../../../functions/shared/domain/alerting/rules';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** Epoch ms `seconds` after T0. */
const at = (seconds: number) => T0 + seconds * 1000;
const iso = (seconds: number) => new Date(at(seconds)).toISOString();
const series = { host: 'web-1', env: 'prod' };

function rule(fields: Record<string, unknown>): AlertRule {
  return parseRule({ name: 'HighCpu', metric: 'cpu_usage', severity: 'critical', ...fields });
}

const threshold = (extra: Record<string, unknown> = {}) =>
  rule({ kind: 'threshold', op: '>', value: 90, ...extra });

/** Points as [seconds after T0, value]. */
const pts = (...pairs: [number, number][]): Sample[] =>
  pairs.map(([seconds, value]) => ({ timestamp: at(seconds), value }));

/** Feeds points one batch at a time (each batch evaluated at its last point's time), collecting every transition. */
function feed(r: AlertRule, batches: Sample[][], state?: SeriesAlertState) {
  let current = state;
  const transitions: EvaluationResult['transitions'][number][] = [];
  for (const batch of batches) {
    const now = Math.max(...batch.map((p) => p.timestamp));
    const result = evaluateOnPoints(r, series, current, batch, now);
    current = result.state;
    transitions.push(...result.transitions);
  }
  return { state: current as SeriesAlertState, transitions };
}

/** One batch per point. */
const onePerBatch = (samples: Sample[]) => samples.map((p) => [p]);

describe('threshold with for', () => {
  it('goes pending on the first breach and fires exactly when the condition has held for `for`', () => {
    // Prepare
    const r = threshold({
      for: '1m',
      labels: { team: 'ops' },
      annotations: { summary: '{{ $labels.host }} at {{ $value }}' },
    });

    // Act
    const pending = feed(r, onePerBatch(pts([0, 95], [59, 96])));
    const fired = feed(r, [pts([60, 97])], pending.state);

    // Assess
    expect(pending.transitions).toEqual([]);
    expect(pending.state).toMatchObject({ phase: 'pending', pendingSince: at(0) });
    const labels = { host: 'web-1', env: 'prod', alertname: 'HighCpu', severity: 'critical', team: 'ops' };
    expect(fired.transitions).toEqual([
      {
        status: 'firing',
        fingerprint: fingerprint(labels),
        rule: 'HighCpu',
        labels,
        annotations: { summary: 'web-1 at 97' },
        value: 97,
        startsAt: iso(60),
      },
    ]);
    expect(fired.state.phase).toBe('firing');
  });

  it('returns to inactive without any event when the condition flaps back before `for`', () => {
    // Prepare
    const r = threshold({ for: '1m' });

    // Act
    const { state, transitions } = feed(r, onePerBatch(pts([0, 95], [30, 50], [40, 95], [90, 95])));

    // Assess
    expect(transitions).toEqual([]);
    expect(state).toMatchObject({ phase: 'pending', pendingSince: at(40) });
  });

  it('replays a buffered batch on its own timestamps, firing inside the batch', () => {
    // Prepare
    const r = threshold({ for: '1m' });

    // Act
    const { transitions } = feed(r, [pts([0, 95], [30, 95], [60, 95], [90, 10])]);

    // Assess
    expect(transitions.map((t) => [t.status, t.startsAt, t.endsAt])).toEqual([
      ['firing', iso(60), undefined],
      ['resolved', iso(60), iso(90)],
    ]);
  });

  it('fires at once with for 0 and resolves at the first datapoint below the threshold', () => {
    // Prepare
    const r = threshold();

    // Act
    const { transitions, state } = feed(r, onePerBatch(pts([0, 95], [10, 99], [20, 50])));

    // Assess
    expect(transitions.map((t) => [t.status, t.value, t.startsAt, t.endsAt])).toEqual([
      ['firing', 95, iso(0), undefined],
      ['resolved', 50, iso(0), iso(20)],
    ]);
    expect(transitions[0]?.fingerprint).toBe(transitions[1]?.fingerprint);
    expect(state.phase).toBe('inactive');
    expect(state.active).toBeUndefined();
  });

  it('lets rule labels win over series labels and alertname/severity win over series labels', () => {
    // Prepare
    const r = threshold({ labels: { env: 'from-rule' } });

    // Act
    const result = evaluateOnPoints(
      r,
      { ...series, alertname: 'spoof', severity: 'spoof' },
      undefined,
      pts([0, 95]),
      at(0),
    );

    // Assess
    expect(result.transitions[0]?.labels).toEqual({
      host: 'web-1',
      env: 'from-rule',
      alertname: 'HighCpu',
      severity: 'critical',
    });
  });
});

describe('keep_firing_for', () => {
  it('keeps firing while the condition stops for less than keep_firing_for, then resolves', () => {
    // Prepare
    const r = threshold({ keep_firing_for: '2m' });

    // Act
    const { transitions } = feed(
      r,
      onePerBatch(pts([0, 95], [30, 10], [60, 95], [90, 10], [179, 10], [180, 10])),
    );

    // Assess
    expect(transitions.map((t) => [t.status, t.endsAt])).toEqual([
      ['firing', undefined],
      ['resolved', iso(180)],
    ]);
  });

  it('resolves on the schedule once keep_firing_for has passed since the last breach, when data went quiet', () => {
    // Prepare
    const r = threshold({ keep_firing_for: '2m' });
    const { state } = feed(r, onePerBatch(pts([0, 95], [60, 95], [90, 10])));

    // Act
    const early = evaluateOnSchedule(r, state, at(179));
    const due = evaluateOnSchedule(r, state, at(180));

    // Assess
    expect(early).toMatchObject({ changed: false, transitions: [] });
    expect(due.transitions.map((t) => [t.status, t.startsAt, t.endsAt])).toEqual([
      ['resolved', iso(0), iso(180)],
    ]);
  });
});

describe('staleness', () => {
  it('resolves a firing series whose data stopped while breaching once it is stale (max(5 min, 2 × for))', () => {
    // Prepare
    const r = threshold();
    const { state } = feed(r, [pts([0, 95])]);

    // Act
    const before = evaluateOnSchedule(r, state, at(299));
    const after = evaluateOnSchedule(r, state, at(300));

    // Assess
    expect(staleAfterMs(r)).toBe(300_000);
    expect(before.changed).toBe(false);
    expect(after.transitions.map((t) => [t.status, t.endsAt])).toEqual([['resolved', iso(300)]]);
    expect(after.state.phase).toBe('inactive');
  });

  it('waits 2 × for, plus keep_firing_for, when those are longer', () => {
    // Prepare
    const r = threshold({ for: '10m', keep_firing_for: '1m' });
    const { state } = feed(r, onePerBatch(pts([0, 95], [600, 95])));

    // Act
    const before = evaluateOnSchedule(r, state, at(600 + 1200 + 59));
    const after = evaluateOnSchedule(r, state, at(600 + 1200 + 60));

    // Assess
    expect(state.phase).toBe('firing');
    expect(before.changed).toBe(false);
    expect(after.transitions.map((t) => t.status)).toEqual(['resolved']);
  });

  it('fires a pending series on the schedule when its breaching value still holds after `for`', () => {
    // Prepare
    const r = threshold({ for: '2m' });
    const { state } = feed(r, [pts([0, 95])]);

    // Act
    const early = evaluateOnSchedule(r, state, at(119));
    const due = evaluateOnSchedule(r, state, at(120));

    // Assess
    expect(early.changed).toBe(false);
    expect(due.transitions.map((t) => [t.status, t.startsAt])).toEqual([['firing', iso(120)]]);
  });

  it('returns a stale pending series to inactive without an event', () => {
    // Prepare
    const r = threshold({ for: '3m' });
    const { state } = feed(r, [pts([0, 95])]);

    // Act
    const result = evaluateOnSchedule(r, state, at(360));

    // Assess
    expect(result.transitions).toEqual([]);
    expect(result.state.phase).toBe('inactive');
    expect(result.state.pendingSince).toBeUndefined();
  });
});

describe('m_of_n', () => {
  it('fires when m of the last n datapoints breach and resolves when the window slides past them', () => {
    // Prepare
    const r = rule({ kind: 'm_of_n', op: '>', value: 90, m: 3, n: 5 });
    const values = [95, 10, 95, 10, 95, 10, 10, 10, 10];

    // Act
    const { transitions } = feed(r, onePerBatch(pts(...values.map((v, i): [number, number] => [i * 10, v]))));

    // Assess: hits 1,0,1,0,1 → fires at the 5th point; the window slides to 0,1,0,1,0 (2 hits) → resolves at the 6th.
    expect(transitions.map((t) => [t.status, t.startsAt, t.endsAt])).toEqual([
      ['firing', iso(40), undefined],
      ['resolved', iso(40), iso(50)],
    ]);
  });
});

describe('absence', () => {
  const absence = (extra: Record<string, unknown> = {}) =>
    rule({ name: 'NoHeartbeat', metric: 'heartbeat', kind: 'absence', for: '5m', ...extra });

  it('fires on the schedule once a series has been silent for `for`, once, and resolves when data returns', () => {
    // Prepare
    const r = absence({ annotations: { summary: 'silent for {{ humanizeDuration $value }}' } });
    const { state } = feed(r, [pts([0, 1])]);

    // Act
    const early = evaluateOnSchedule(r, state, at(299));
    const fired = evaluateOnSchedule(r, state, at(300));
    const again = evaluateOnSchedule(r, fired.state, at(360));
    const back = evaluateOnPoints(r, series, fired.state, pts([420, 1]), at(420));

    // Assess
    expect(early.changed).toBe(false);
    expect(fired.transitions).toMatchObject([
      {
        status: 'firing',
        labels: { host: 'web-1', env: 'prod', alertname: 'NoHeartbeat', severity: 'critical' },
        annotations: { summary: 'silent for 5m 0s' },
        value: 300,
        startsAt: iso(300),
      },
    ]);
    expect(again).toMatchObject({ changed: false, transitions: [] });
    expect(back.transitions.map((t) => [t.status, t.startsAt, t.endsAt])).toEqual([
      ['resolved', iso(300), iso(420)],
    ]);
  });

  it('never fires from ingest, even after a long gap', () => {
    // Prepare
    const r = absence();

    // Act
    const { transitions } = feed(r, onePerBatch(pts([0, 1], [3600, 1])));

    // Assess
    expect(transitions).toEqual([]);
  });

  it('keeps an absence alert firing for keep_firing_for after data returns', () => {
    // Prepare
    const r = absence({ keep_firing_for: '1m' });
    const fired = evaluateOnSchedule(r, feed(r, [pts([0, 1])]).state, at(300));

    // Act
    const back = evaluateOnPoints(r, series, fired.state, pts([420, 1]), at(420));
    const early = evaluateOnSchedule(r, back.state, at(479));
    const due = evaluateOnSchedule(r, back.state, at(480));

    // Assess
    expect(back.transitions).toEqual([]);
    expect(early.transitions).toEqual([]);
    expect(due.transitions.map((t) => [t.status, t.endsAt])).toEqual([['resolved', iso(480)]]);
  });

  it('fires one alert with the equality matchers as labels when no series matches for `for`', () => {
    // Prepare
    const r = absence({ matchers: 'job="api",env=~"prod.*"' });

    // Act
    const created = evaluateAbsentSelector(r, undefined, undefined, at(0));
    const early = evaluateAbsentSelector(r, created.state, undefined, at(299));
    const fired = evaluateAbsentSelector(r, created.state, undefined, at(300));
    const again = evaluateAbsentSelector(r, fired.state, undefined, at(400));
    const back = evaluateAbsentSelector(r, fired.state, at(450), at(460));

    // Assess
    expect(created).toMatchObject({ changed: true, transitions: [] });
    expect(created.state.scope).toBe('selector');
    expect(early.changed).toBe(false);
    expect(fired.transitions).toMatchObject([
      { status: 'firing', labels: { job: 'api', alertname: 'NoHeartbeat', severity: 'critical' } },
    ]);
    expect(again.changed).toBe(false);
    expect(back.transitions.map((t) => [t.status, t.endsAt])).toEqual([['resolved', iso(460)]]);
  });

  it('does not fire the per-rule alert while some matching series is reporting', () => {
    // Prepare
    const r = absence();
    const created = evaluateAbsentSelector(r, undefined, undefined, at(0));

    // Act
    const result = evaluateAbsentSelector(r, created.state, at(590), at(600));

    // Assess
    expect(result.transitions).toEqual([]);
    expect(result.state.phase).toBe('inactive');
  });
});

describe('rate_of_change', () => {
  const rate = (extra: Record<string, unknown> = {}) =>
    rule({ name: 'FastGrowth', metric: 'queue_depth', kind: 'rate_of_change', op: '>', value: 4, ...extra });

  it('fires on the per-second change between consecutive datapoints, averaged over a gap', () => {
    // Prepare
    const r = rate();

    // Act
    const { transitions } = feed(r, onePerBatch(pts([0, 100], [10, 130], [70, 430], [80, 440])));

    // Assess: 3/s, then 300 over 60 s = 5/s (fires), then 1/s (resolves).
    expect(transitions.map((t) => [t.status, t.value])).toEqual([
      ['firing', 5],
      ['resolved', 1],
    ]);
  });

  it('computes no rate across a gap longer than the staleness horizon', () => {
    // Prepare
    const r = rate();

    // Act
    const { transitions, state } = feed(r, onePerBatch(pts([0, 100], [600, 100_000])));

    // Assess
    expect(transitions).toEqual([]);
    expect(state.holding).toBe(false);
  });

  it('with a window, compares the newest datapoint to the oldest within the window', () => {
    // Prepare
    const r = rate({ window: '1m', value: 2 });
    // +1 every 10 s (0.1/s), then a jump of 150 at 120 s: 150 over the last 60 s = 2.6/s over the window.
    const samples = pts(
      [0, 0],
      [10, 1],
      [20, 2],
      [30, 3],
      [40, 4],
      [50, 5],
      [60, 6],
      [70, 7],
      [80, 8],
      [90, 9],
      [100, 10],
      [110, 11],
      [120, 162],
    );

    // Act
    const { transitions } = feed(r, onePerBatch(samples));

    // Assess
    expect(transitions.map((t) => [t.status, t.value])).toEqual([['firing', (162 - 6) / 60]]);
  });
});

describe('anomaly: stddev', () => {
  const stddevRule = (extra: Record<string, unknown> = {}) =>
    rule({
      name: 'LatencyAnomaly',
      metric: 'latency',
      kind: 'anomaly',
      method: 'stddev',
      window_points: 30,
      min_points: 20,
      k: 3,
      ...extra,
    });
  /** Alternating 10, 11: mean 10.5, population sd 0.5. */
  const noise = (count: number, from = 0): [number, number][] =>
    Array.from({ length: count }, (_, i): [number, number] => [
      (from + i) * 10,
      (from + i) % 2 === 0 ? 10 : 11,
    ]);

  it('never fires during warm-up, even on a huge spike', () => {
    // Prepare
    const r = stddevRule();

    // Act
    const { transitions } = feed(r, onePerBatch(pts(...noise(10), [100, 10_000], ...noise(8, 11))));

    // Assess
    expect(transitions).toEqual([]);
  });

  it('fires on a 6σ spike after warm-up and not on a 2σ wobble', () => {
    // Prepare
    const r = stddevRule();
    const { state } = feed(r, onePerBatch(pts(...noise(20))));

    // Act
    const wobble = evaluateOnPoints(r, series, state, pts([200, 11.5]), at(200));
    const spike = evaluateOnPoints(r, series, state, pts([200, 13.5]), at(200));

    // Assess
    expect(wobble.transitions).toEqual([]);
    expect(spike.transitions.map((t) => [t.status, t.value])).toEqual([['firing', 13.5]]);
  });

  it('watches one side only with direction', () => {
    // Prepare
    const r = stddevRule({ direction: 'above' });
    const { state } = feed(r, onePerBatch(pts(...noise(20))));

    // Act
    const drop = evaluateOnPoints(r, series, state, pts([200, 7.5]), at(200));
    const spike = evaluateOnPoints(r, series, state, pts([200, 13.5]), at(200));

    // Assess
    expect(drop.transitions).toEqual([]);
    expect(spike.transitions).toHaveLength(1);
  });

  it('handles a constant series: no firing on itself or on rounding noise, firing on a real change', () => {
    // Prepare
    const r = stddevRule();
    const constant = Array.from({ length: 25 }, (_, i): [number, number] => [i * 10, 0.1]);
    const { state, transitions } = feed(r, onePerBatch(pts(...constant)));

    // Act
    const noiseOnly = evaluateOnPoints(r, series, state, pts([300, 0.1 + 1e-15]), at(300));
    const change = evaluateOnPoints(r, series, state, pts([300, 0.2]), at(300));

    // Assess
    expect(transitions).toEqual([]);
    expect(noiseOnly.transitions).toEqual([]);
    expect(change.transitions).toHaveLength(1);
    expect(JSON.stringify(change.state)).not.toContain('null');
  });
});

describe('anomaly: ewma', () => {
  const ewmaRule = () =>
    rule({
      name: 'EwmaAnomaly',
      metric: 'latency',
      kind: 'anomaly',
      method: 'ewma',
      alpha: 0.2,
      k: 4,
      min_points: 10,
    });
  const noise = (count: number): [number, number][] =>
    Array.from({ length: count }, (_, i): [number, number] => [i * 10, i % 2 === 0 ? 10 : 11]);

  it('does not fire before min_points and fires on a spike far outside the weighted band', () => {
    // Prepare
    const r = ewmaRule();

    // Act
    const warmUp = feed(r, onePerBatch(pts([0, 10], [10, 11], [20, 1000])));
    const steady = feed(r, onePerBatch(pts(...noise(40))));
    const normal = evaluateOnPoints(r, series, steady.state, pts([400, 11]), at(400));
    const spike = evaluateOnPoints(r, series, steady.state, pts([400, 20]), at(400));

    // Assess
    expect(warmUp.transitions).toEqual([]);
    expect(steady.transitions).toEqual([]);
    expect(normal.transitions).toEqual([]);
    expect(spike.transitions.map((t) => t.status)).toEqual(['firing']);
    expect(steady.state.memory).toMatchObject({ kind: 'ewma', seen: 10 });
  });
});

describe('ordering, versions and state size', () => {
  it('ignores datapoints not after the last one applied, deterministically', () => {
    // Prepare
    const r = threshold();
    const first = evaluateOnPoints(r, series, undefined, pts([60, 50]), at(60));

    // Act
    const late = evaluateOnPoints(r, series, first.state, pts([30, 99], [60, 99]), at(61));

    // Assess
    expect(late).toMatchObject({ changed: false, transitions: [] });
    expect(late.state).toEqual(first.state);
  });

  it('sorts a batch by timestamp and keeps the first of duplicate timestamps', () => {
    // Prepare
    const r = threshold();

    // Act
    const result = evaluateOnPoints(r, series, undefined, pts([20, 50], [10, 95], [20, 99]), at(20));

    // Assess: 95 at 10 s fires, 50 at 20 s resolves, 99 at 20 s is a duplicate.
    expect(result.transitions.map((t) => [t.status, t.value])).toEqual([
      ['firing', 95],
      ['resolved', 50],
    ]);
    expect(result.state.lastSeenAt).toBe(at(20));
  });

  it('increments the version on every change and only then, starting at 1 for a new state', () => {
    // Prepare
    const r = threshold();

    // Act
    const created = evaluateOnPoints(r, series, undefined, pts([0, 50]), at(0));
    const next = evaluateOnPoints(r, series, created.state, pts([10, 50]), at(10));
    const noop = evaluateOnSchedule(r, next.state, at(20));

    // Assess
    expect(created.state.version).toBe(1);
    expect(next.state.version).toBe(2);
    expect(noop).toMatchObject({ changed: false });
    expect(noop.state.version).toBe(2);
  });

  it('lets a retrying evaluator that lost the write race re-apply the same points without firing twice', () => {
    // Prepare
    const r = threshold();
    const before = evaluateOnPoints(r, series, undefined, pts([0, 50]), at(0)).state;
    const winner = evaluateOnPoints(r, series, before, pts([10, 95]), at(10));

    // Act: the loser re-reads the winner's state and evaluates its own copy of the batch.
    const retry = evaluateOnPoints(r, series, winner.state, pts([10, 95]), at(10));

    // Assess
    expect(winner.transitions).toHaveLength(1);
    expect(retry).toMatchObject({ changed: false, transitions: [] });
  });

  it('survives a JSON round trip unchanged, so a stored item evaluates the same', () => {
    // Prepare
    const r = rule({ kind: 'anomaly', method: 'stddev', window_points: 30, min_points: 5 });
    const { state } = feed(r, onePerBatch(pts([0, 1], [10, 2], [20, 3])));

    // Act
    const copy = JSON.parse(JSON.stringify(state)) as SeriesAlertState;

    // Assess
    expect(copy).toEqual(state);
  });

  it.each([
    ['m_of_n n=100', { kind: 'm_of_n', op: '>', value: 0.5, m: 50, n: 100 }],
    ['stddev window 100', { kind: 'anomaly', method: 'stddev', window_points: 100 }],
    ['ewma', { kind: 'anomaly', method: 'ewma', alpha: 0.1 }],
    ['rate over a window', { kind: 'rate_of_change', op: '>', value: 1, window: '1h' }],
    ['rate between consecutive points', { kind: 'rate_of_change', op: '>', value: 1 }],
  ])('keeps the state of %s bounded (≤ 110 numbers) however many datapoints arrive', (_name, fields) => {
    // Prepare
    const r = rule(fields);
    const samples = Array.from({ length: 2000 }, (_, i) => ({ timestamp: at(i * 5), value: Math.sin(i) }));

    // Act
    const { state } = feed(r, [samples.slice(0, 1000), samples.slice(1000)]);

    // Assess
    const numbers = countNumbers(state);
    const hits = state.memory.kind === 'm_of_n' ? state.memory.hits.length : 0;
    expect(numbers).toBeLessThanOrEqual(110);
    expect(hits).toBeLessThanOrEqual(100);
    expect(JSON.stringify(state).length).toBeLessThan(4096);
  });

  it('resets the windows, but not the phase, when the rule condition changes', () => {
    // Prepare
    const before = rule({ kind: 'm_of_n', op: '>', value: 90, m: 1, n: 5 });
    const after = rule({ kind: 'm_of_n', op: '>', value: 90, m: 1, n: 3 });
    const { state } = feed(before, [pts([0, 95], [10, 10])]);

    // Act
    const result = evaluateOnPoints(after, series, state, pts([20, 10]), at(20));

    // Assess
    expect(state).toMatchObject({ phase: 'firing', memory: { kind: 'm_of_n', hits: '10' } });
    expect(result.state.memory).toEqual({ kind: 'm_of_n', hits: '0' });
    expect(result.state.digest).toBe(after.digest);
    expect(result.transitions.map((t) => t.status)).toEqual(['resolved']);
  });

  it('refuses a state that belongs to another rule', () => {
    // Prepare
    const { state } = feed(threshold(), [pts([0, 1])]);
    const other = rule({ name: 'Other', kind: 'threshold', op: '>', value: 1 });

    // Act / Assess
    expect(() => evaluateOnSchedule(other, state, at(10))).toThrow(/rule "HighCpu"/);
  });

  it('skips non-finite values and timestamps far in the future', () => {
    // Prepare
    const r = threshold();

    // Act
    const result = evaluateOnPoints(
      r,
      series,
      undefined,
      [
        { timestamp: at(0), value: Number.NaN },
        { timestamp: at(0) + 3_600_000, value: 99 },
      ],
      at(0),
    );

    // Assess
    expect(result.transitions).toEqual([]);
    expect(result.state.lastSeenAt).toBeUndefined();
  });
});

function countNumbers(value: unknown): number {
  if (typeof value === 'number') return 1;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countNumbers(item), 0);
  if (typeof value === 'object' && value !== null) {
    return Object.values(value).reduce((sum: number, item) => sum + countNumbers(item), 0);
  }
  return 0;
}
