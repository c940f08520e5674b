import { describe, expect, it } from 'vitest';
import { compact } from '../../../functions/compactor/compactor';
import {
  compileMatchers,
  exactQuantile,
  parseMatchers,
  parseQuery,
  planQuery,
  runQuery,
} from '../../../functions/shared/domain/query';
import { ValidationError } from '../../../functions/shared/errors';
import { InMemoryStorage } from './fakes';

const T0 = Date.UTC(2026, 10, 24, 0, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

describe('query parsing', () => {
  it('parses matchers with all four operators, quotes and braces', () => {
    expect(parseMatchers('{host="web-1", env=~"prod|stage",dc!="x\\"y",az!~"a.*"}')).toEqual([
      { label: 'host', op: '=', value: 'web-1' },
      { label: 'env', op: '=~', value: 'prod|stage' },
      { label: 'dc', op: '!=', value: 'x"y' },
      { label: 'az', op: '!~', value: 'a.*' },
    ]);
  });

  it('anchors regexes to the whole value and treats a missing label as empty', () => {
    const matches = compileMatchers(parseMatchers('env=~"prod|stage",team!~"x.*"'));

    expect(matches({ env: 'prod' })).toBe(true);
    expect(matches({ env: 'production' })).toBe(false);
    expect(matches({ env: 'preprod' })).toBe(false);
    expect(matches({ env: 'stage', team: 'xy' })).toBe(false);
    expect(compileMatchers(parseMatchers('env=""'))({})).toBe(true);
  });

  it.each([
    [{}, 'name is required'],
    [{ name: 'bad name' }, 'name must match'],
    [{ name: 'cpu', match: 'host=web' }, 'match: cannot parse'],
    [{ name: 'cpu', match: 'host=~"("' }, 'not a valid regular expression'],
    [{ name: 'cpu', from: 'yesterday' }, 'from:'],
    [{ name: 'cpu', from: 'now', to: 'now-1h' }, 'from must be before to'],
    [{ name: 'cpu', agg: 'median' }, 'agg must be one of'],
    [{ name: 'cpu', step: '-5' }, 'step:'],
    [{ name: 'cpu', group_by: 'host,1x' }, 'group_by'],
  ])('rejects %j with a validation error', (params, message) => {
    expect(() => parseQuery(params, T0)).toThrow(ValidationError);
    expect(() => parseQuery(params, T0)).toThrow(message);
  });

  it('accepts epoch ms, ISO and relative times, defaulting to the last hour', () => {
    expect(parseQuery({ name: 'cpu' }, T0)).toMatchObject({ from: T0 - HOUR, to: T0, agg: 'avg' });
    expect(parseQuery({ name: 'cpu', from: 'now-2h', to: '2026-11-24T00:00:00Z' }, T0)).toMatchObject({
      from: T0 - 2 * HOUR,
      to: T0,
    });
    expect(parseQuery({ name: 'cpu', from: String(T0 - 5), to: String(T0), step: '1m' }, T0)).toMatchObject({
      from: T0 - 5,
      step: MIN,
    });
  });
});

describe('query planning', () => {
  it.each([
    [6 * HOUR, 'raw'],
    [6 * HOUR + 1, '1m'],
    [7 * 24 * HOUR, '1m'],
    [7 * 24 * HOUR + 1, '1h'],
  ])('chooses the resolution from the range (%d ms → %s)', (range, resolution) => {
    expect(planQuery({ from: T0 - range, to: T0 }, T0).resolution).toBe(resolution);
  });

  it('raises a step below the resolution to it and rounds rollup steps to whole slots', () => {
    expect(planQuery({ from: T0 - 2 * 24 * HOUR, to: T0, step: 1000 }, T0).step).toBe(MIN);
    expect(planQuery({ from: T0 - 30 * 24 * HOUR, to: T0, step: 90 * MIN }, T0).step).toBe(2 * HOUR);
  });

  it('skips a resolution whose retention no longer covers the range', () => {
    const retention = { raw: 86_400, m1: 7 * 86_400, h1: 90 * 86_400 };
    expect(planQuery({ from: T0 - 30 * HOUR, to: T0 - 28 * HOUR }, T0, retention).resolution).toBe('1m');
  });

  it('refuses more than 11,000 points per series', () => {
    expect(() => planQuery({ from: T0 - 6 * HOUR, to: T0, step: 1000 }, T0)).toThrow(/at most 11000/);
  });
});

describe('running queries', () => {
  /** Three series over two hours at 10 s: a gauge per host and a counter that resets. */
  async function seeded() {
    const store = new InMemoryStorage();
    store.series.push(
      { name: 'cpu', id: 'w1', labels: { host: 'web-1', env: 'prod' } },
      { name: 'cpu', id: 'w2', labels: { host: 'web-2', env: 'prod' } },
      { name: 'cpu', id: 's1', labels: { host: 'stage-1', env: 'stage' } },
      { name: 'requests', id: 'r1', labels: { host: 'web-1' } },
    );
    const truth = new Map<string, [number, number][]>([
      ['w1', []],
      ['w2', []],
      ['s1', []],
      ['r1', []],
    ]);
    let counter = 0;
    for (let t = T0; t < T0 + 2 * HOUR; t += 10_000) {
      const i = (t - T0) / 10_000;
      counter = t === T0 + HOUR ? 0 : counter + 5; // a restart at 01:00
      const values: [string, number][] = [
        ['w1', (i % 17) + 0.5],
        ['w2', (i % 5) * 10],
        ['s1', 42],
        ['r1', counter],
      ];
      for (const [id, v] of values) truth.get(id)?.push([t, v]);
      store.write(
        t + 100,
        values.map(([id, v]) => ({ id, t, v })),
      );
    }
    store.watermark = T0;
    for (let now = T0 + MIN; now <= T0 + 3 * HOUR; now += 10 * MIN) await compact(now, store);
    return { store, truth };
  }

  it('answers raw queries with exact aggregates grouped by label', async () => {
    const { store, truth } = await seeded();
    const now = T0 + 3 * HOUR;

    const result = await runQuery(
      parseQuery(
        {
          name: 'cpu',
          match: 'env="prod"',
          from: String(T0),
          to: String(T0 + HOUR),
          step: '5m',
          agg: 'max',
          group_by: 'env',
        },
        now,
      ),
      store,
      now,
    );

    expect(result).toMatchObject({ resolution: 'raw', step: 5 * MIN, from: T0, to: T0 + HOUR });
    expect(result.series).toHaveLength(1);
    expect(result.series[0]?.labels).toEqual({ env: 'prod' });
    const expected = Math.max(
      ...[...(truth.get('w1') ?? []), ...(truth.get('w2') ?? [])]
        .filter(([t]) => t < T0 + 5 * MIN)
        .map(([, v]) => v),
    );
    expect(result.series[0]?.points[0]).toEqual([T0, expected]);
    expect(result.series[0]?.points).toHaveLength(12);
  });

  it('computes exact percentiles at raw resolution and sketch percentiles within 1 % at 1m', async () => {
    const { store, truth } = await seeded();
    const now = T0 + 3 * HOUR;
    const values = (truth.get('w1') ?? []).filter(([t]) => t >= T0 && t < T0 + HOUR).map(([, v]) => v);

    const raw = await runQuery(
      parseQuery(
        {
          name: 'cpu',
          match: 'host="web-1"',
          from: String(T0),
          to: String(T0 + HOUR),
          step: '1h',
          agg: 'p95',
        },
        now,
      ),
      store,
      now,
    );
    const minute = await runQuery(
      parseQuery(
        {
          name: 'cpu',
          match: 'host="web-1"',
          from: String(T0),
          to: String(T0 + 7 * HOUR),
          step: '1h',
          agg: 'p95',
        },
        now,
      ),
      store,
      now,
    );

    expect(raw.series[0]?.points[0]?.[1]).toBe(exactQuantile(values, 0.95));
    expect(minute.resolution).toBe('1m');
    const estimate = minute.series[0]?.points[0]?.[1] as number;
    expect(Math.abs(estimate - exactQuantile(values, 0.95))).toBeLessThanOrEqual(
      0.01 * exactQuantile(values, 0.95),
    );
  });

  it('computes rate per second with a counter reset, the same at raw and rollup resolutions', async () => {
    const { store } = await seeded();
    const now = T0 + 3 * HOUR;
    const params = { name: 'requests', from: String(T0 + 30 * MIN), step: '1m', agg: 'rate' };

    const raw = await runQuery(parseQuery({ ...params, to: String(T0 + 90 * MIN) }, now), store, now);
    const rolled = await runQuery(
      parseQuery({ ...params, to: String(T0 + 30 * MIN + 7 * HOUR) }, now),
      store,
      now,
    );

    // +5 per 10 s is 0.5/s; the minute with the restart loses the 5 before the reset.
    const rawPoints = raw.series[0]?.points ?? [];
    expect(rawPoints[0]).toEqual([T0 + 30 * MIN, 0.5]);
    expect(rawPoints.find(([t]) => t === T0 + HOUR)).toEqual([T0 + HOUR, 25 / 60]);
    const rolledPoints = rolled.series[0]?.points ?? [];
    expect(rolled.resolution).toBe('1m');
    expect(rolledPoints.slice(0, rawPoints.length)).toEqual(rawPoints);
  });

  it('shows points that are not compacted yet', async () => {
    const { store } = await seeded();
    const now = T0 + 3 * HOUR;
    store.write(now - 20_000, [{ id: 's1', t: now - 30_000, v: 7 }]);

    const result = await runQuery(
      parseQuery({ name: 'cpu', match: 'host="stage-1"', from: 'now-5m', agg: 'min', step: '5m' }, now),
      store,
      now,
    );

    expect(result.series[0]?.points).toEqual([[now - 5 * MIN, 7]]);
  });
});

describe('fresh data before the first compaction', () => {
  it('reads only the recent segment minutes when no watermark exists yet, not a whole day', async () => {
    const store = new InMemoryStorage();
    store.series.push({ name: 'cpu', id: 'w1', labels: { host: 'web-1' } });
    const now = T0 + 10 * HOUR;
    store.write(now - 30_000, [{ id: 'w1', t: now - 30_000, v: 7 }]);
    const minutesRead: number[] = [];
    const readSegmentMinute = store.readSegmentMinute.bind(store);
    store.readSegmentMinute = async (minute: number) => {
      minutesRead.push(minute);
      return readSegmentMinute(minute);
    };

    const result = await runQuery(
      parseQuery({ name: 'cpu', from: String(now - HOUR), to: String(now), step: '1m' }, now),
      store,
      now,
    );

    expect(result.series[0]?.points.at(-1)?.[1]).toBe(7);
    expect(minutesRead.length).toBeLessThanOrEqual(80);
    expect(Math.min(...minutesRead)).toBeGreaterThanOrEqual(now - 2 * HOUR);
  });
});
