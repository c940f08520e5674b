import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime';
import { authedFetch, postJson } from '../support/clients';
import { startTestRuntime } from '../support/runtime';

describe('ingestion through the local runtime', () => {
  let runtime: LocalRuntime;
  let api: string;

  const snapshot = async (host: string) =>
    (await (await authedFetch(`${api}/api/dashboard/system-metrics?host=${host}`)).json()) as {
      timestamp: string;
    };

  beforeAll(async () => {
    runtime = await startTestRuntime();
    api = runtime.urls.HttpApiUrl;
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  /** Every point of a series in the last hour, as the raw query API answers it (count per step). */
  const pointCount = async (name: string, match: string) => {
    const params = new URLSearchParams({
      name,
      match,
      agg: 'count',
      from: 'now-1h',
      to: 'now+5m',
      step: '3600000',
    });
    const response = await authedFetch(`${api}/api/metrics/query?${params}`);
    const body = (await response.json()) as { series: { points: [number, number][] }[] };
    expect(response.status, JSON.stringify(body)).toBe(200);
    return body.series.flatMap((s) => s.points).reduce((sum, [, count]) => sum + count, 0);
  };

  describe('formats', () => {
    it('stores a native JSON batch', async () => {
      const run = randomUUID();

      const answer = await postJson(`${api}/api/metrics`, {
        metrics: [
          { name: 'fmt_native', value: 1, labels: { run } },
          { name: 'fmt_native', value: 2, timestamp: Date.now() - 1000, labels: { run } },
        ],
      });

      expect(answer).toEqual({ status: 202, body: { accepted: 2 } });
      expect(await pointCount('fmt_native', `run="${run}"`)).toBe(2);
    });

    it('stores the Prometheus text exposition format', async () => {
      const run = randomUUID();
      const text = [
        '# HELP fmt_prom_requests_total Requests.',
        '# TYPE fmt_prom_requests_total counter',
        `fmt_prom_requests_total{run="${run}",code="200"} 1027`,
        `fmt_prom_requests_total{run="${run}",code="500"} 3 ${Date.now() - 2000}`,
        '',
      ].join('\n');

      const response = await authedFetch(`${api}/api/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; version=0.0.4' },
        body: text,
      });

      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ accepted: 2 });
      expect(await pointCount('fmt_prom_requests_total', `run="${run}"`)).toBe(2);
    });

    it('stores OTLP/HTTP JSON from a collector on /v1/metrics, with resource labels, and answers in OTLP', async () => {
      const run = randomUUID();
      const now = `${BigInt(Date.now()) * 1_000_000n}`;
      const request = {
        resourceMetrics: [
          {
            resource: {
              attributes: [
                { key: 'service.name', value: { stringValue: 'checkout' } },
                { key: 'telemetry.sdk.language', value: { stringValue: 'go' } },
              ],
            },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'fmt.otlp.queue_depth',
                    gauge: {
                      dataPoints: [
                        {
                          timeUnixNano: now,
                          asDouble: 4,
                          attributes: [{ key: 'run', value: { stringValue: run } }],
                        },
                      ],
                    },
                  },
                  {
                    name: 'fmt.otlp.latency',
                    histogram: {
                      aggregationTemporality: 2,
                      dataPoints: [
                        {
                          timeUnixNano: now,
                          count: '4',
                          sum: 100,
                          bucketCounts: ['1', '2', '1'],
                          explicitBounds: [10, 50],
                          attributes: [{ key: 'run', value: { stringValue: run } }],
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      };

      const answer = await postJson(`${api}/v1/metrics`, request);

      expect(answer).toEqual({ status: 200, body: {} });
      expect(await pointCount('fmt_otlp_queue_depth', `run="${run}",service_name="checkout"`)).toBe(1);
      expect(await pointCount('fmt_otlp_latency_count', `run="${run}"`)).toBe(1);
      expect(await pointCount('fmt_otlp_queue_depth', `telemetry_sdk_language="go"`)).toBe(0);
    });
  });

  describe('partial acceptance and limits', () => {
    it('stores the valid points of a mixed batch and lists every rejected one with index, code and message', async () => {
      const run = randomUUID();

      const answer = await postJson(`${api}/api/metrics`, {
        metrics: [
          { name: 'partial_ok', value: 1, labels: { run } },
          { name: 'partial ok', value: 1, labels: { run } },
          { name: 'partial_ok', value: 2, timestamp: Date.now() - 30 * 24 * 3600_000, labels: { run } },
          { name: 'partial_ok', value: 3, labels: { run, __reserved: 'x' } },
          { name: 'partial_ok', value: 4, labels: { run, other: 'y' } },
        ],
      });

      expect(answer.status).toBe(202);
      expect(answer.body.accepted).toBe(2);
      expect(answer.body.rejected.map((r: { index: number; code: string }) => [r.index, r.code])).toEqual([
        [1, 'INVALID_NAME'],
        [2, 'TIMESTAMP_OUT_OF_RANGE'],
        [3, 'INVALID_LABEL_KEY'],
      ]);
      expect(answer.body.rejected.every((r: { message: string }) => r.message.length > 0)).toBe(true);
      expect(await pointCount('partial_ok', `run="${run}"`)).toBe(2);
    });

    it.each([
      [
        'a body over 1 MiB',
        'application/json',
        JSON.stringify({ metrics: [{ name: 'x', value: 1, labels: { pad: 'y'.repeat(1_100_000) } }] }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      ['OTLP protobuf', 'application/x-protobuf', 'binary', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [
        'an OTLP body that is not an export request',
        'application/json',
        '{"resourceMetrics": 5}',
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a Prometheus version we do not speak',
        'text/plain; version=9.9',
        'x 1',
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
    ])('answers %s with a 4xx JSON error', async (_case, contentType, body, status, code) => {
      const response = await authedFetch(`${api}/api/metrics`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });

      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ error: { code, message: expect.any(String) } });
    });
  });

  describe('Idempotency-Key', () => {
    it('counts a retried batch once', async () => {
      const run = randomUUID();
      const batch = { metrics: [{ name: 'retried', value: 1, timestamp: Date.now(), labels: { run } }] };
      const key = randomUUID();

      await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': key });
      await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': key });
      await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': key });

      expect(await pointCount('retried', `run="${run}"`)).toBe(1);
    });

    it('answers a retried batch with the first answer and does not ingest it again', async () => {
      const host = `host-${randomUUID()}`;
      const key = randomUUID();
      const batch = { metrics: [{ name: 'cpu_usage', value: 10, labels: { host } }] };

      const first = await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': key });
      const stampedAt = (await snapshot(host)).timestamp;
      const retry = await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': key });

      expect(first.status).toBe(202);
      expect(retry).toEqual(first);
      // The points carry no timestamp, so running the batch again would restamp the snapshot.
      expect((await snapshot(host)).timestamp).toBe(stampedAt);
    });

    it('ingests the same body again under a new key', async () => {
      const host = `host-${randomUUID()}`;
      const batch = { metrics: [{ name: 'cpu_usage', value: 10, labels: { host } }] };
      await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': randomUUID() });
      const stampedAt = (await snapshot(host)).timestamp;
      await new Promise((resolve) => setTimeout(resolve, 5));

      await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': randomUUID() });

      expect(Date.parse((await snapshot(host)).timestamp)).toBeGreaterThan(Date.parse(stampedAt));
    });

    it('rejects a key reused with a different body with 422', async () => {
      const key = randomUUID();
      await postJson(
        `${api}/api/metrics`,
        { metrics: [{ name: 'a', value: 1 }] },
        { 'idempotency-key': key },
      );

      const reused = await postJson(
        `${api}/api/metrics`,
        { metrics: [{ name: 'a', value: 2 }] },
        { 'idempotency-key': key },
      );

      expect(reused.status).toBe(422);
      expect(reused.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    });

    it('does not remember a rejected batch, so a corrected retry under the same key is ingested', async () => {
      const key = randomUUID();
      const bad = await postJson(`${api}/api/metrics`, '{"metrics": [', { 'idempotency-key': key });

      // Had the failure been remembered, a different body under this key would be refused (422).
      const corrected = await postJson(
        `${api}/api/metrics`,
        { metrics: [{ name: 'a', value: 1 }] },
        { 'idempotency-key': key },
      );

      expect(bad.status).toBe(400);
      expect(corrected.status).toBe(202);
    });
  });
});
