import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { blockItem, DynamoMetricsStore } from '../../../functions/shared/adapters/dynamo-metrics-store';
import { decodeSegment } from '../../../functions/shared/domain/blocks';
import { DependencyError } from '../../../functions/shared/errors';

const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const T0 = Date.UTC(2026, 10, 24, 6, 0, 30);

const canceled = (codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

afterEach(() => ddb.reset());

describe('DynamoMetricsStore', () => {
  it('writes one segment item per request in its arrival minute, with a TTL in epoch seconds', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    const store = new DynamoMetricsStore(doc, 'metrics', { clock: () => T0 });
    const name = `seg_${Math.random().toString(36).slice(2)}`;

    // Act
    await store.putPoints([
      { name, value: 1, timestamp: T0 - 10_000, labels: { host: 'a' } },
      { name, value: 2, timestamp: T0, labels: { host: 'a' } },
    ]);

    // Assess
    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item ?? {});
    expect(puts).toHaveLength(1);
    expect(puts[0]?.pk).toMatch(/^SEG#1795500000000#[0-7]$/);
    expect(puts[0]?.expiresAt).toBe(Math.floor(T0 / 1000) + 86_400);
    const points = decodeSegment(puts[0]?.d as Uint8Array);
    expect(points.map((p) => [p.t, p.v])).toEqual([
      [T0 - 10_000, 1],
      [T0, 2],
    ]);
    expect(new Set(points.map((p) => p.id)).size).toBe(1);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('indexes a series once per container, and treats an existing one as known', async () => {
    ddb.on(TransactWriteCommand).rejects(canceled(['ConditionalCheckFailed', 'None']));
    const store = new DynamoMetricsStore(doc, 'metrics', { clock: () => T0 });
    const point = {
      name: `known_${Math.random().toString(36).slice(2)}`,
      value: 1,
      timestamp: T0,
      labels: {},
    };

    const first = await store.registerSeries([point]);
    const second = await store.registerSeries([point, point]);

    expect(first.rejected.size).toBe(0);
    expect(second.rejected.size).toBe(0);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('rejects the points of a new series over the per-metric limit', async () => {
    ddb.on(TransactWriteCommand).rejects(canceled(['None', 'ConditionalCheckFailed']));
    const store = new DynamoMetricsStore(doc, 'metrics', { clock: () => T0, maxSeriesPerMetric: 1 });
    const name = `full_${Math.random().toString(36).slice(2)}`;

    const result = await store.registerSeries([
      { name, value: 1, timestamp: T0, labels: { host: 'new' } },
      { name, value: 1, timestamp: T0, labels: { host: 'new' } },
    ]);

    expect([...result.rejected]).toEqual([0, 1]);
    const update = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[1]?.Update;
    expect(update?.ConditionExpression).toContain('seriesCount < :limit');
    expect(update?.ExpressionAttributeValues?.[':limit']).toBe(1);
  });

  it('retries a registration that concurrent ones cancelled with TransactionConflict', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(canceled(['None', 'TransactionConflict']))
      .rejectsOnce(canceled(['TransactionConflict', 'None']))
      .resolves({});
    const store = new DynamoMetricsStore(doc, 'metrics', { clock: () => T0 });
    const name = `busy_${Math.random().toString(36).slice(2)}`;

    const result = await store.registerSeries([{ name, value: 1, timestamp: T0, labels: {} }]);

    expect(result.rejected.size).toBe(0);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('gives up with a dependency error when conflicts persist', async () => {
    ddb.on(TransactWriteCommand).rejects(canceled(['None', 'TransactionConflict']));
    const store = new DynamoMetricsStore(doc, 'metrics', { clock: () => T0 });
    const name = `stuck_${Math.random().toString(36).slice(2)}`;

    await expect(
      store.registerSeries([{ name, value: 1, timestamp: T0, labels: {} }]),
    ).rejects.toBeInstanceOf(DependencyError);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(5);
  });

  it('gives every block kind a TTL in epoch seconds from the end of its window', () => {
    const retention = { raw: 100, m1: 200, h1: 300 };
    const start = Date.UTC(2026, 10, 24, 6, 0, 0);

    const raw = blockItem({ kind: 'raw', seriesId: 'abc', start, src: 0, points: [[start, 1]] }, retention);
    const hour = blockItem({ kind: 'h1', seriesId: 'abc', start, src: 0, slots: new Map() }, retention);

    expect(raw).toMatchObject({
      pk: 'R#abc#2026-11-24',
      sk: String(start),
      expiresAt: start / 1000 + 600 + 100,
    });
    expect(hour).toMatchObject({ pk: 'H#abc', expiresAt: start / 1000 + 3600 + 300 });
  });
});
