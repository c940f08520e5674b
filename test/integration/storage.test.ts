import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exactQuantile } from '../../functions/shared/domain/query';
import type { LocalRuntime } from '../../local/runtime';
import { authedFetch, postJson } from '../support/clients';
import { startTestRuntime } from '../support/runtime';

const MIN = 60_000;
const HOUR = 60 * MIN;
const STEP = 10_000;

/** ~2 h of 10 s data for three gauges and a counter, in the past; the truth kept for checking. */
function synthetic(run: string, start: number) {
  const cpu = `cpu_${run}`;
  const requests = `requests_${run}`;
  const series: { name: string; labels: Record<string, string>; value: (i: number) => number }[] = [
    {
      name: cpu,
      labels: { host: 'web-1', env: 'prod' },
      value: (i: number) => Math.round((((i * 37) % 1000) / 10) * 100) / 100,
    },
    { name: cpu, labels: { host: 'web-2', env: 'prod' }, value: (i: number) => 20 + (i % 7) * 2.5 },
    { name: cpu, labels: { host: 'stage-1', env: 'stage' }, value: () => 5 },
    // A counter: +3 per 10 s, restarting at 0 after 90 minutes.
    { name: requests, labels: { host: 'web-1' }, value: (i: number) => (i < 540 ? i * 3 : (i - 540) * 3) },
  ];
  const points: { name: string; value: number; timestamp: number; labels: Record<string, string> }[] = [];
  for (let i = 0; i < 720; i++) {
    for (const s of series)
      points.push({ name: s.name, labels: s.labels, value: s.value(i), timestamp: start + i * STEP });
  }
  return { cpu, requests, points };
}

type Point = ReturnType<typeof synthetic>['points'][number];
const inRange = (p: Point, from: number, to: number) => p.timestamp >= from && p.timestamp < to;

describe('storage: segments, compaction, rollups and queries through the local runtime', () => {
  let runtime: LocalRuntime;
  let api: string;
  let compactorFn: string;
  const run = randomUUID().slice(0, 8);
  const base = Math.floor((Date.now() - 4 * HOUR) / HOUR) * HOUR;
  const data = synthetic(run, base);

  /** GET through the HTTP API. */
  async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await authedFetch(`${api}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const query = async (params: Record<string, string>) => {
    const response = await get(`/api/metrics/query?${new URLSearchParams(params)}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as {
      resolution: string;
      step: number;
      series: { labels: Record<string, string>; points: [number, number][] }[];
    };
  };

  const compactAt = async (time: number) => {
    const outcome = await runtime.lambda.invoke(compactorFn, {
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: new Date(time).toISOString(),
      detail: {},
    });
    if (outcome.kind !== 'ok') throw new Error(`compactor failed: ${JSON.stringify(outcome)}`);
    return outcome.payload as { pointsRead: number; blocksWritten: Record<string, number> };
  };

  beforeAll(async () => {
    runtime = await startTestRuntime();
    api = runtime.urls.HttpApiUrl;
    const descriptions = await loadDescriptions(inject('assemblyDir'));
    const byDescription = (prefix: string) => {
      const found = [...descriptions].find(([, description]) => description.startsWith(prefix));
      if (!found) throw new Error(`no function described as ${prefix}`);
      return found[0];
    };
    compactorFn = byDescription('Every minute: compacts');

    for (let i = 0; i < data.points.length; i += 1000) {
      const response = await postJson(`${api}/api/metrics`, { metrics: data.points.slice(i, i + 1000) });
      expect(response.status, JSON.stringify(response.body)).toBe(202);
    }
    // Scheduled runs with an advancing clock: the arrival minutes of the ingest close, then again.
    const first = await compactAt(Date.now() + 2 * MIN);
    expect(first.pointsRead).toBeGreaterThanOrEqual(data.points.length);
    await compactAt(Date.now() + 3 * MIN);
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  it('answers raw queries with exact avg, min, max, sum and count per group', async () => {
    const from = base + 10 * MIN;
    const to = base + 70 * MIN;
    for (const agg of ['avg', 'min', 'max', 'sum', 'count'] as const) {
      const result = await query({
        name: data.cpu,
        match: 'env="prod"',
        from: String(from),
        to: String(to),
        step: '10m',
        agg,
        group_by: 'host',
      });

      expect(result.resolution).toBe('raw');
      expect(result.series.map((s) => s.labels)).toEqual([{ host: 'web-1' }, { host: 'web-2' }]);
      for (const s of result.series) {
        expect(s.points).toHaveLength(6);
        for (const [t, value] of s.points) {
          const values = data.points
            .filter(
              (p) => p.name === data.cpu && p.labels.host === s.labels.host && inRange(p, t, t + 10 * MIN),
            )
            .map((p) => p.value);
          expect(value).toBeCloseTo(reduce(agg, values), 9);
        }
      }
    }
  });

  it('computes rate with the counter reset handled, identically at raw and 1m resolution', async () => {
    const params = { name: data.requests, from: String(base + 80 * MIN), step: '1m', agg: 'rate' };
    const raw = await query({ ...params, to: String(base + 100 * MIN) });
    const minute = await query({ ...params, to: String(base + 80 * MIN + 7 * HOUR) });

    expect(raw.resolution).toBe('raw');
    expect(minute.resolution).toBe('1m');
    const expected = (t: number) => {
      const ps = data.points
        .filter((p) => p.name === data.requests && p.timestamp >= t - STEP && p.timestamp < t + MIN)
        .sort((a, b) => a.timestamp - b.timestamp);
      let increase = 0;
      for (let i = 1; i < ps.length; i++) {
        const [a, b] = [ps[i - 1] as Point, ps[i] as Point];
        increase += b.value >= a.value ? b.value - a.value : b.value;
      }
      return increase / 60;
    };
    const rawPoints = raw.series[0]?.points ?? [];
    expect(rawPoints).toHaveLength(20);
    for (const [t, v] of rawPoints) expect(v).toBeCloseTo(expected(t), 9);
    expect(minute.series[0]?.points.slice(0, 20)).toEqual(rawPoints);
  });

  it('answers 1m-rollup queries: exact avg and count, p95 within the sketch bound', async () => {
    const from = base - HOUR;
    const to = base + 6 * HOUR; // 7 h: above raw's 6 h
    const avg = await query({
      name: data.cpu,
      match: 'host="web-1"',
      from: String(from),
      to: String(to),
      step: '30m',
      agg: 'avg',
    });
    const p95 = await query({
      name: data.cpu,
      match: 'host="web-1"',
      from: String(from),
      to: String(to),
      step: '30m',
      agg: 'p95',
    });

    expect(avg.resolution).toBe('1m');
    expect(avg.step).toBe(30 * MIN);
    expect(avg.series[0]?.points).toHaveLength(4);
    for (const [t, v] of avg.series[0]?.points ?? []) {
      const values = web1(t, t + 30 * MIN);
      expect(v).toBeCloseTo(reduce('avg', values), 9);
      const [, q] = p95.series[0]?.points.find(([pt]) => pt === t) ?? [0, Number.NaN];
      const exact = exactQuantile(values, 0.95);
      expect(Math.abs(q - exact)).toBeLessThanOrEqual(0.01 * exact);
    }
  });

  it('answers 1h-rollup queries over 8 days', async () => {
    const now = Date.now();
    const result = await query({
      name: data.cpu,
      match: 'host="web-1"',
      from: String(now - 8 * 24 * HOUR),
      to: String(now),
      agg: 'max',
    });
    const count = await query({
      name: data.cpu,
      from: String(now - 8 * 24 * HOUR),
      to: String(now),
      agg: 'count',
    });

    expect(result.resolution).toBe('1h');
    expect(result.step).toBe(HOUR);
    expect(result.series[0]?.points).toEqual([
      [base, Math.max(...web1(base, base + HOUR))],
      [base + HOUR, Math.max(...web1(base + HOUR, base + 2 * HOUR))],
    ]);
    expect(count.series[0]?.points.map(([, v]) => v)).toEqual([3 * 360, 3 * 360]);
  });

  it('selects series with regex and negative matchers, fully anchored', async () => {
    const window = {
      name: data.cpu,
      from: String(base),
      to: String(base + HOUR),
      step: '1h',
      agg: 'count',
      group_by: 'host',
    };
    const both = await query({ ...window, match: 'env=~"prod|stage"' });
    const notWeb = await query({ ...window, match: 'host!~"web-.*"' });
    const partial = await query({ ...window, match: 'env=~"pro"' });

    expect(both.series.map((s) => s.labels.host)).toEqual(['stage-1', 'web-1', 'web-2']);
    expect(notWeb.series.map((s) => s.labels.host)).toEqual(['stage-1']);
    expect(partial.series).toEqual([]);
  });

  it('lists metric names and label values for pickers', async () => {
    const names = await get('/api/metrics/names');
    const hosts = await get(`/api/metrics/labels/host/values?name=${data.cpu}`);

    expect(names.status).toBe(200);
    expect(names.body.names).toEqual(expect.arrayContaining([data.cpu, data.requests]));
    expect(hosts.body).toEqual({ values: ['stage-1', 'web-1', 'web-2'] });
  });

  it.each([
    ['no name', 'agg=avg'],
    ['a bad matcher', `name=cpu&match=${encodeURIComponent('host=web-1')}`],
    ['a bad regex', `name=cpu&match=${encodeURIComponent('host=~"("')}`],
    ['an unknown aggregation', 'name=cpu&agg=median'],
    ['too many points', 'name=cpu&from=now-6h&step=1'],
  ])('answers %s with a 400 JSON error', async (_case, queryString) => {
    const response = await get(`/api/metrics/query?${queryString}`);

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: expect.any(String) },
    });
  });

  function web1(from: number, to: number): number[] {
    return data.points
      .filter((p) => p.name === data.cpu && p.labels.host === 'web-1' && inRange(p, from, to))
      .map((p) => p.value);
  }
});

function reduce(agg: 'avg' | 'min' | 'max' | 'sum' | 'count', values: number[]): number {
  const sum = values.reduce((a, b) => a + b, 0);
  if (agg === 'avg') return sum / values.length;
  if (agg === 'min') return Math.min(...values);
  if (agg === 'max') return Math.max(...values);
  if (agg === 'sum') return sum;
  return values.length;
}

async function loadDescriptions(assemblyDir: string): Promise<Map<string, string>> {
  const { loadStackAssembly } = await import('../../local/assembly');
  const { template } = loadStackAssembly(assemblyDir);
  return new Map(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id, r]) => [id, String(r.Properties?.Description ?? '')]),
  );
}
