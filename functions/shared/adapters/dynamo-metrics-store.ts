import { createHash, randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { BlockRef, CompactionStore, StoredBlock } from '../../compactor/compactor';
import {
  BLOCK_SPAN_MS,
  type BlockKind,
  blockKey,
  blockPartitions,
  blockStart,
  decodeRawBlock,
  decodeRollup,
  decodeSegment,
  encodeRawBlock,
  encodeRollup,
  encodeSegment,
  MINUTE_MS,
  minuteOf,
  SEGMENT_SHARDS,
  SEGMENT_TTL_SECONDS,
  type SeriesPoint,
  segmentPartition,
  timeSortKey,
} from '../domain/blocks';
import { MAX_SERIES_PER_METRIC } from '../domain/ingest/limits';
import { type Datapoint, seriesKey } from '../domain/metrics';
import { type MetricsReader, mapLimit, type RetentionSeconds, type SeriesInfo } from '../domain/query';
import type { Stats } from '../domain/rollup';
import type { HostSnapshot, SnapshotUpdate } from '../domain/system-metrics';
import { readPositiveInt } from '../env';
import { ENV } from '../env-names';
import { DependencyError } from '../errors';
import type { Clock, MetricsStore } from '../ports';
import { batchGetAll, batchWriteAll } from './dynamo-batch';

/**
 * The metrics table (docs/storage.md has the full layout and the cost arithmetic):
 *   SEG#<arrival minute>#<shard 0..7> / <uuid>#<chunk>   one request's points (gzip'd columns), TTL 1 day
 *   SERIES#<metric name> / <series id>                    a series' labels (the series index)
 *   NAMES / <metric name>                                 a metric name and its series count
 *   R#<series id>#<UTC day> / <block start>               raw points over 10 minutes
 *   M#<series id>#<UTC month> / <hour start>              an hour of 1-minute rollups
 *   H#<series id> / <hour start>                          a 1-hour rollup
 *   COMPACTOR / WATERMARK                                 arrival minutes before `w` are compacted
 *   SNAPSHOT / HOST#<host>                                the latest system metrics of one host
 */
const SNAPSHOT_PK = 'SNAPSHOT';
const NAMES_PK = 'NAMES';
const WATERMARK_KEY = { pk: 'COMPACTOR', sk: 'WATERMARK' } as const;

/** Default retention (seconds) per block kind: dev's settings; the functions pass the stage's. */
export const DEFAULT_RETENTION: RetentionSeconds = { raw: 2 * 86_400, m1: 7 * 86_400, h1: 90 * 86_400 };

/** Retention per resolution from the stage's environment (set by the MetricsStore construct). */
export function retentionFromEnv(): RetentionSeconds {
  return {
    raw: readPositiveInt(ENV.rawRetentionSeconds, DEFAULT_RETENTION.raw),
    m1: readPositiveInt(ENV.minuteRollupRetentionSeconds, DEFAULT_RETENTION.m1),
    h1: readPositiveInt(ENV.hourRollupRetentionSeconds, DEFAULT_RETENTION.h1),
  };
}

export interface DynamoMetricsStoreOptions {
  readonly clock?: Clock;
  readonly retention?: RetentionSeconds;
  readonly maxSeriesPerMetric?: number;
}

/** Attempts at registering one series when concurrent registrations conflict. */
const MAX_REGISTER_ATTEMPTS = 5;

/** The first 16 hex digits of sha256(series key): a fixed-size id for keys and segments. */
export function seriesId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export class DynamoMetricsStore implements MetricsStore, CompactionStore, MetricsReader {
  private readonly clock: Clock;
  private readonly retention: RetentionSeconds;
  private readonly maxSeries: number;
  /** Series this container has already indexed (the store lives for the container: handlers build it once per cold start). */
  private readonly knownSeries = new Set<string>();
  /** Series refused for cardinality, and when to ask again. */
  private readonly refused = new Map<string, number>();

  /**
   * @param options a number is accepted for compatibility with the walking skeleton's
   *   point-retention argument and ignored: segments live one day, blocks by `retention`.
   */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    o: DynamoMetricsStoreOptions = {},
  ) {
    this.clock = o.clock ?? Date.now;
    this.retention = o.retention ?? DEFAULT_RETENTION;
    this.maxSeries = o.maxSeriesPerMetric ?? MAX_SERIES_PER_METRIC;
  }

  // ---- ingest ----------------------------------------------------------------------------------

  async registerSeries(points: readonly Datapoint[]): Promise<{ rejected: ReadonlySet<number> }> {
    const byId = new Map<string, { name: string; labels: Datapoint['labels']; indexes: number[] }>();
    points.forEach((p, index) => {
      const id = seriesId(seriesKey(p.name, p.labels));
      if (this.knownSeries.has(id)) return;
      const entry = byId.get(id) ?? { name: p.name, labels: p.labels, indexes: [] };
      entry.indexes.push(index);
      byId.set(id, entry);
    });
    const rejected = new Set<number>();
    const now = this.clock();
    await mapLimit([...byId], 8, async ([id, entry]) => {
      if ((this.refused.get(id) ?? 0) > now) {
        for (const i of entry.indexes) rejected.add(i);
        return;
      }
      if (await this.indexSeries(id, entry.name, entry.labels)) {
        this.knownSeries.add(id);
        this.refused.delete(id);
      } else {
        this.refused.set(id, now + MINUTE_MS);
        for (const i of entry.indexes) rejected.add(i);
      }
    });
    return { rejected };
  }

  /**
   * Puts the series item if absent and counts it against its metric's limit, atomically. Series of
   * one metric share its counter item, so concurrent registrations can be cancelled with
   * `TransactionConflict` on AWS: those are retried with jittered backoff, a few times.
   */
  private async indexSeries(id: string, name: string, labels: Datapoint['labels']): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { pk: `SERIES#${name}`, sk: id, labels },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: { pk: NAMES_PK, sk: name },
                  UpdateExpression: 'ADD seriesCount :one',
                  ConditionExpression: 'attribute_not_exists(seriesCount) OR seriesCount < :limit',
                  ExpressionAttributeValues: { ':one': 1, ':limit': this.maxSeries },
                },
              },
            ],
          }),
        );
        return true;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [series, counter] = error.CancellationReasons ?? [];
        if (series?.Code === 'ConditionalCheckFailed') return true; // already indexed
        if (counter?.Code === 'ConditionalCheckFailed') return false; // over the limit
        const conflict = error.CancellationReasons?.some((reason) => reason.Code === 'TransactionConflict');
        if (!conflict || attempt >= MAX_REGISTER_ATTEMPTS) {
          throw new DependencyError('Registering a series was cancelled', { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
      }
    }
  }

  /**
   * Writes a request's points as one segment item per 350 KB chunk in the current arrival minute,
   * on a random shard. New series are indexed first; points of series refused for cardinality are
   * not stored (the ingest core reports them through `registerSeries`).
   */
  async putPoints(points: readonly Datapoint[]): Promise<void> {
    const { rejected } = await this.registerSeries(points);
    const kept: SeriesPoint[] = [];
    points.forEach((p, i) => {
      if (!rejected.has(i))
        kept.push({ id: seriesId(seriesKey(p.name, p.labels)), t: p.timestamp, v: p.value });
    });
    if (kept.length === 0) return;
    const arrival = this.clock();
    const pk = segmentPartition(minuteOf(arrival), Math.floor(Math.random() * SEGMENT_SHARDS));
    const request = randomUUID();
    const expiresAt = Math.floor(arrival / 1000) + SEGMENT_TTL_SECONDS;
    const chunks = encodeSegment(kept);
    await Promise.all(
      chunks.map((d, chunk) =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk, sk: `${request}#${chunk}`, d, expiresAt },
          }),
        ),
      ),
    );
  }

  // ---- snapshots -------------------------------------------------------------------------------

  async mergeSnapshot(update: SnapshotUpdate): Promise<HostSnapshot | undefined> {
    const names: Record<string, string> = { '#timestamp': 'timestamp', '#host': 'host' };
    const values: Record<string, unknown> = { ':timestamp': update.timestamp, ':host': update.host };
    const sets = ['#timestamp = :timestamp', '#host = :host'];
    Object.entries(update.values).forEach(([metric, value], index) => {
      names[`#m${index}`] = metric;
      values[`:m${index}`] = value;
      sets.push(`#m${index} = :m${index}`);
    });
    try {
      const output = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: SNAPSHOT_PK, sk: `HOST#${update.host}` },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_not_exists(#timestamp) OR #timestamp <= :timestamp',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return output.Attributes ? toSnapshot(output.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async getSnapshot(host?: string): Promise<HostSnapshot | undefined> {
    if (host !== undefined) {
      const output = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: SNAPSHOT_PK, sk: `HOST#${host}` } }),
      );
      return output.Item ? toSnapshot(output.Item) : undefined;
    }
    // One item per host: a bounded partition, read whole to find the freshest host.
    let newest: Record<string, unknown> | undefined;
    for (const item of await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': SNAPSHOT_PK },
    })) {
      if (!newest || (item.timestamp as number) > (newest.timestamp as number)) newest = item;
    }
    return newest ? toSnapshot(newest) : undefined;
  }

  // ---- compaction ------------------------------------------------------------------------------

  async readWatermark(): Promise<number | undefined> {
    const output = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: WATERMARK_KEY, ConsistentRead: true }),
    );
    return output.Item?.w as number | undefined;
  }

  async writeWatermark(watermark: number): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...WATERMARK_KEY, w: watermark } }),
    );
  }

  async readSegmentMinute(arrivalMinute: number): Promise<SeriesPoint[]> {
    const shards = await Promise.all(
      Array.from({ length: SEGMENT_SHARDS }, (_, shard) =>
        this.queryAll({
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': segmentPartition(arrivalMinute, shard) },
          ConsistentRead: true,
        }),
      ),
    );
    return shards.flat().flatMap((item) => decodeSegment(item.d as Uint8Array));
  }

  async getBlocks(refs: readonly BlockRef[]): Promise<StoredBlock[]> {
    const byKey = new Map(refs.map((ref) => [keyString(blockKey(ref.kind, ref.seriesId, ref.start)), ref]));
    const keys = [...byKey.keys()].map((k) => JSON.parse(k) as { pk: string; sk: string });
    const found: StoredBlock[] = [];
    for (const item of await batchGetAll(this.client, this.tableName, keys)) {
      const ref = byKey.get(keyString({ pk: item.pk as string, sk: item.sk as string }));
      if (ref) found.push(decodeBlock(ref, item));
    }
    return found;
  }

  async putBlocks(blocks: readonly StoredBlock[]): Promise<void> {
    const nowSeconds = Math.floor(this.clock() / 1000);
    const items = blocks
      .map((block) => blockItem(block, this.retention))
      .filter((item) => item.expiresAt > nowSeconds);
    const chunks: (typeof items)[] = [];
    for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
    await mapLimit(chunks, 8, (chunk) =>
      batchWriteAll(
        this.client,
        this.tableName,
        chunk.map((Item) => ({ PutRequest: { Item } })),
      ),
    );
  }

  // ---- queries ---------------------------------------------------------------------------------

  async listNames(): Promise<string[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': NAMES_PK },
      ProjectionExpression: 'sk',
    });
    return items.map((item) => item.sk as string);
  }

  async listSeries(name: string): Promise<SeriesInfo[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `SERIES#${name}` },
      ProjectionExpression: 'sk, labels',
    });
    return items.map((item) => ({
      id: item.sk as string,
      labels: (item.labels ?? {}) as Record<string, string>,
    }));
  }

  async readRaw(ids: readonly string[], from: number, to: number): Promise<Map<string, [number, number][]>> {
    const result = new Map<string, [number, number][]>();
    await mapLimit(ids, 16, async (id) => {
      const items = await this.readBlockItems('raw', id, from, to);
      const points = items
        .flatMap((item) => decodeRawBlock(Number(item.sk), item.b as Uint8Array))
        .filter(([t]) => t >= from && t < to);
      result.set(id, points);
    });
    return result;
  }

  async readRollups(
    kind: 'm1' | 'h1',
    ids: readonly string[],
    from: number,
    to: number,
  ): Promise<Map<string, Map<number, Stats>>> {
    const slotSpan = kind === 'm1' ? MINUTE_MS : BLOCK_SPAN_MS.h1;
    const result = new Map<string, Map<number, Stats>>();
    await mapLimit(ids, 16, async (id) => {
      const slots = new Map<number, Stats>();
      for (const item of await this.readBlockItems(kind, id, from, to)) {
        const start = Number(item.sk);
        for (const [slot, stats] of decodeRollup(item.b as Uint8Array)) {
          const t = start + slot * slotSpan;
          if (t >= from && t < to) slots.set(t, stats);
        }
      }
      result.set(id, slots);
    });
    return result;
  }

  private async readBlockItems(kind: BlockKind, id: string, from: number, to: number) {
    const first = blockStart(kind, from);
    const pages = await Promise.all(
      blockPartitions(kind, id, first, to).map((pk) =>
        this.queryAll({
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': pk, ':from': timeSortKey(first), ':to': timeSortKey(to - 1) },
          ProjectionExpression: 'sk, b',
        }),
      ),
    );
    return pages.flat();
  }

  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: startKey }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

const keyString = (key: { pk: string; sk: string }) => JSON.stringify({ pk: key.pk, sk: key.sk });

const RETENTION_OF: Readonly<Record<BlockKind, keyof RetentionSeconds>> = { raw: 'raw', m1: 'm1', h1: 'h1' };

/** The table item of a block; TTL (epoch seconds) counts from the end of the block's window. */
export function blockItem(block: StoredBlock, retention: RetentionSeconds) {
  const b =
    block.kind === 'raw'
      ? encodeRawBlock(block.start, block.points ?? [])
      : encodeRollup(block.slots ?? new Map());
  return {
    ...blockKey(block.kind, block.seriesId, block.start),
    b,
    src: block.src,
    expiresAt:
      Math.floor((block.start + BLOCK_SPAN_MS[block.kind]) / 1000) + retention[RETENTION_OF[block.kind]],
  };
}

function decodeBlock(ref: BlockRef, item: Record<string, unknown>): StoredBlock {
  const b = item.b as Uint8Array;
  const src = item.src as number;
  return ref.kind === 'raw'
    ? { ...ref, src, points: decodeRawBlock(ref.start, b) }
    : { ...ref, src, slots: decodeRollup(b) };
}

function toSnapshot(item: Record<string, unknown>): HostSnapshot {
  const { pk: _pk, sk: _sk, timestamp, host, ...metrics } = item;
  return {
    timestamp: new Date(timestamp as number).toISOString(),
    host: host as string,
    ...(metrics as Record<string, number>),
  };
}
