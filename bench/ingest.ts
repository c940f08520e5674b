/**
 * `npm run bench:ingest`: the storage layout's figures (issue #3), recorded in docs/benchmarks.md.
 *
 * 1. Ingest throughput through the local runtime: POST /api/metrics with 100 series × 1 point per
 *    request (the typical agent batch), datapoints/s and p50/p95 request latency.
 * 2. Write cost: 24 h of 10 s data for 100 series written with the real writer (segments) and
 *    compacted by the real compactor minute by minute, straight into DynamoDB Local. Every item
 *    written is sized with DynamoDB's rules (attribute names + values; 1 write unit per started
 *    KB; transactions count twice) — never DynamoDB Local's ConsumedCapacity — and compared with
 *    the one-item-per-datapoint anchor, sized the same way for the same points.
 * 3. Query latency over that 24 h data set at each resolution (the query core + adapter in process).
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { compact } from '../functions/compactor/compactor';
import { DynamoMetricsStore } from '../functions/shared/adapters/dynamo-metrics-store';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../functions/shared/domain/blocks';
import { type Datapoint, seriesKey } from '../functions/shared/domain/metrics';
import { parseQuery, runQuery } from '../functions/shared/domain/query';
import { startLocalRuntime } from '../local/runtime';
import { synthesize } from '../local/synth';
import { postJson, signIn, useToken } from '../test/support/clients';
import { percentile, record } from './record';

const SERIES = 100;
const INTERVAL = 10_000;
const HTTP_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const CONCURRENCY = 8;
const SEED_HOURS = Number(process.env.BENCH_SEED_HOURS ?? 24);

// ---- DynamoDB item size rules ----------------------------------------------------------------------

/** The size DynamoDB bills for a value (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html). */
function valueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') {
    const digits = String(Math.abs(value))
      .replace(/[.-]|e.*$/g, '')
      .replace(/^0+/, '');
    return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'boolean' || value === null) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + valueSize(v) + 1, 0);
  if (typeof value === 'object') {
    return (
      3 +
      Object.entries(value as object).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueSize(v) + 1, 0)
    );
  }
  return 0;
}

const itemSize = (item: Record<string, unknown>) =>
  Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + valueSize(v), 0);
const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/** Counts every item written through a document client, by key prefix. */
class WriteMeter {
  readonly units = new Map<string, number>();
  readonly bytes = new Map<string, number>();
  readonly items = new Map<string, number>();
  add(item: Record<string, unknown>, factor = 1): void {
    const kind = String(item.pk).split('#')[0] as string;
    const size = itemSize(item);
    this.units.set(kind, (this.units.get(kind) ?? 0) + factor * writeUnits(size));
    this.bytes.set(kind, (this.bytes.get(kind) ?? 0) + size);
    this.items.set(kind, (this.items.get(kind) ?? 0) + 1);
  }
  wrap(client: DynamoDBDocumentClient): DynamoDBDocumentClient {
    const send = client.send.bind(client);
    const meter = this;
    return new Proxy(client, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
          const input = command.input as Record<string, unknown> as {
            Item: Record<string, unknown>;
            RequestItems: unknown;
            TransactItems: unknown;
          };
          switch (command.constructor.name) {
            case 'PutCommand':
              meter.add(input.Item);
              break;
            case 'BatchWriteCommand':
              for (const requests of Object.values(
                input.RequestItems as Record<string, { PutRequest?: { Item: Record<string, unknown> } }[]>,
              )) {
                for (const r of requests) if (r.PutRequest) meter.add(r.PutRequest.Item);
              }
              break;
            case 'TransactWriteCommand':
              for (const t of input.TransactItems as {
                Put?: { Item: Record<string, unknown> };
                Update?: { Key: Record<string, unknown> };
              }[]) {
                if (t.Put) meter.add(t.Put.Item, 2);
                if (t.Update) meter.add({ ...t.Update.Key, seriesCount: 10_000 }, 2);
              }
              break;
          }
          return send(command as never);
        };
      },
    });
  }
}

// ---- workload ------------------------------------------------------------------------------------

/** 100 series like a fleet's agents: 80 gauges (2 decimals, random walk) and 20 counters. */
function fleet() {
  const state: number[] = Array.from({ length: SERIES }, (_, i) => (i < 80 ? 50 : 0));
  const labels = Array.from({ length: SERIES }, (_, i) => ({
    host: `web-${String(i).padStart(2, '0')}`,
    env: i % 2 ? 'prod' : 'stage',
    region: 'eu-west-1',
  }));
  return (t: number): Datapoint[] =>
    labels.map((l, i) => {
      if (i < 80)
        state[i] = Math.min(
          100,
          Math.max(0, Math.round(((state[i] as number) + (Math.random() - 0.5) * 4) * 100) / 100),
        );
      else state[i] = (state[i] as number) + Math.floor(Math.random() * 50);
      return {
        name: i < 80 ? 'cpu_usage_pct' : 'http_requests_total',
        labels: l,
        value: state[i] as number,
        timestamp: t,
      };
    });
}

/** The walking skeleton's item for one datapoint, for the anchor. */
function anchorItem(p: Datapoint): Record<string, unknown> {
  return {
    pk: `S#${seriesKey(p.name, p.labels)}`,
    sk: String(p.timestamp).padStart(13, '0'),
    name: p.name,
    labels: p.labels,
    value: p.value,
    expiresAt: Math.floor(p.timestamp / 1000) + 7 * 86_400,
  };
}

// ---- run -----------------------------------------------------------------------------------------

const assemblyDir = await synthesize();
const runtime = await startLocalRuntime({
  assemblyDir,
  port: 0,
  agent: false,
  log: () => {},
  functionLog: () => {},
});
useToken(await signIn(runtime));
const lines: string[] = [];
try {
  // 1. HTTP ingest throughput.
  const next = fleet();
  const bodies = Array.from({ length: HTTP_REQUESTS }, (_, i) => ({
    metrics: next(Date.now() - HOUR_MS + i * INTERVAL),
  }));
  // Warm every execution environment (cold start + first sight of each series) before measuring.
  await Promise.all(
    Array.from({ length: CONCURRENCY }, () => postJson(`${runtime.urls.HttpApiUrl}/api/metrics`, bodies[0])),
  );
  const latencies: number[] = [];
  let cursor = 1;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (cursor < bodies.length) {
        const body = bodies[cursor++];
        const t = performance.now();
        const response = await postJson(`${runtime.urls.HttpApiUrl}/api/metrics`, body);
        if (response.status !== 202) throw new Error(`ingest answered ${response.status}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const pointsPerSecond = ((bodies.length - 1) * SERIES) / seconds;

  // 2. Seed 24 h directly with the writer and the compactor, metering every write.
  const table = `bench-${randomUUID().slice(0, 8)}`;
  const raw = new DynamoDBClient({
    endpoint: runtime.engines.dynamodb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await raw.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  const meter = new WriteMeter();
  const doc = meter.wrap(DynamoDBDocumentClient.from(raw));
  let clock = 0;
  const store = new DynamoMetricsStore(doc, table, { clock: () => clock });
  const seedEnd = Math.floor((Date.now() - HOUR_MS) / HOUR_MS) * HOUR_MS;
  const seedStart = seedEnd - SEED_HOURS * HOUR_MS;
  const seedFleet = fleet();
  let anchorUnits = 0;
  let anchorBytes = 0;
  let seeded = 0;
  const seedStarted = performance.now();
  await doc.send(
    new (await import('@aws-sdk/lib-dynamodb')).PutCommand({
      TableName: table,
      Item: { pk: 'COMPACTOR', sk: 'WATERMARK', w: seedStart },
    }),
  );
  meter.units.delete('COMPACTOR');
  let nextCompaction = seedStart + MINUTE_MS;
  for (let t = seedStart; t < seedEnd; t += INTERVAL) {
    clock = t + 150;
    const points = seedFleet(t);
    for (const p of points) {
      const size = itemSize(anchorItem(p));
      anchorUnits += writeUnits(size);
      anchorBytes += size;
    }
    await store.putPoints(points);
    seeded += points.length;
    while (nextCompaction <= clock) {
      await compact(nextCompaction, new DynamoMetricsStore(doc, table, { clock: () => nextCompaction }));
      nextCompaction += MINUTE_MS;
    }
  }
  // The watermark is one write per minute whatever the volume: count the seeded period's only.
  const watermarkUnits = meter.units.get('COMPACTOR') ?? 0;
  for (; nextCompaction <= seedEnd + 2 * HOUR_MS; nextCompaction += MINUTE_MS) {
    await compact(nextCompaction, new DynamoMetricsStore(doc, table, { clock: () => nextCompaction }));
  }
  meter.units.set('COMPACTOR', watermarkUnits);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const per1000 = (kind: string) => ((meter.units.get(kind) ?? 0) / seeded) * 1000;
  const bytesPerPoint = (kind: string) => (meter.bytes.get(kind) ?? 0) / seeded;
  const kinds: [string, string, string][] = [
    ['SEG', 'segments (ingest)', '1 day'],
    ['R', 'raw 10-min blocks', 'raw retention'],
    ['M', '1-min rollup blocks (1 h each)', '1m retention'],
    ['H', '1-h rollups', '1h retention'],
    ['SERIES', 'series index (once per series)', 'forever'],
    ['NAMES', 'names + cardinality counter', 'forever'],
    ['COMPACTOR', 'compactor watermark', '-'],
  ];
  const total = kinds.reduce((n, [k]) => n + per1000(k), 0);

  // 3. Query latency over the 24 h data set.
  const reader = new DynamoMetricsStore(DynamoDBDocumentClient.from(raw), table);
  const now = seedEnd + 2 * HOUR_MS;
  const queries: [string, Record<string, string>][] = [
    [
      'raw, 1 h, 1 series, avg',
      { name: 'cpu_usage_pct', match: 'host="web-01"', from: String(seedEnd - HOUR_MS), to: String(seedEnd) },
    ],
    [
      'raw, 6 h, 80 series, avg by env',
      { name: 'cpu_usage_pct', from: String(seedEnd - 6 * HOUR_MS), to: String(seedEnd), group_by: 'env' },
    ],
    [
      '1m, 24 h, 80 series, p95 by env, step 5m',
      {
        name: 'cpu_usage_pct',
        from: String(seedStart),
        to: String(seedEnd),
        agg: 'p95',
        step: '5m',
        group_by: 'env',
      },
    ],
    [
      '1m, 24 h, 20 counters, rate, step 1m',
      { name: 'http_requests_total', from: String(seedStart), to: String(seedEnd), agg: 'rate', step: '1m' },
    ],
    [
      '1h, 8 d, 80 series, max by host',
      {
        name: 'cpu_usage_pct',
        from: String(now - 8 * DAY_MS),
        to: String(now),
        agg: 'max',
        group_by: 'host',
      },
    ],
  ];
  const queryRows: string[] = [];
  for (const [label, params] of queries) {
    const times: number[] = [];
    let points = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const result = await runQuery(parseQuery(params, now), reader, now);
      times.push(performance.now() - t);
      points = result.series.reduce((n, s) => n + s.points.length, 0);
    }
    queryRows.push(
      `| ${label} | ${points} | ${percentile(times, 50).toFixed(0)} ms | ${Math.max(...times).toFixed(0)} ms |`,
    );
  }

  lines.push(
    '### Ingest throughput (local runtime, HTTP)',
    '',
    `${HTTP_REQUESTS - 1} requests × ${SERIES} points, ${CONCURRENCY} in flight: **${pointsPerSecond.toFixed(0)} datapoints/s**, request latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms.`,
    '',
    `### Write cost: ${SEED_HOURS} h × ${SERIES} series × 10 s = ${seeded.toLocaleString('en')} datapoints`,
    '',
    "Sized from the items actually written, with DynamoDB's size rules (1 WCU per started KB per write; transactions ×2).",
    '',
    '| items | WCU per 1,000 points | bytes written per point | kept |',
    '| --- | ---: | ---: | --- |',
    ...kinds.map(
      ([k, label, kept]) =>
        `| ${label} | ${per1000(k).toFixed(2)} | ${bytesPerPoint(k).toFixed(1)} | ${kept} |`,
    ),
    `| **this layout, total** | **${total.toFixed(1)}** | ${kinds.reduce((n, [k]) => n + bytesPerPoint(k), 0).toFixed(1)} | |`,
    `| anchor: one item per datapoint | ${((anchorUnits / seeded) * 1000).toFixed(0)} | ${(anchorBytes / seeded).toFixed(1)} | |`,
    '',
    `Goal ≤ 50 WCU per 1,000 points: **${total <= 50 ? 'met' : 'NOT met'}** (${(((anchorUnits / seeded) * 1000) / total).toFixed(0)}× fewer write units than the anchor). Seeding and compacting took ${seedSeconds.toFixed(0)} s.`,
    '',
    `### Query latency over the ${SEED_HOURS} h data set (query core + DynamoDB adapter against DynamoDB Local, 5 runs)`,
    '',
    '| query | points returned | p50 | max |',
    '| --- | ---: | ---: | ---: |',
    ...queryRows,
  );
  console.log(lines.join('\n'));
  record('ingest', 'npm run bench:ingest', lines.join('\n'));
  raw.destroy();
} finally {
  await runtime.stop();
}
