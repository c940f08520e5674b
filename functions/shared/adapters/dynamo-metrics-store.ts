import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Datapoint, seriesKey } from '../domain/metrics';
import type { HostSnapshot, SnapshotUpdate } from '../domain/system-metrics';
import type { MetricsStore } from '../ports';
import { batchWriteAll } from './dynamo-batch';

/**
 * Metrics table layout for the walking skeleton:
 *   pk = S#<series key>, sk = <epoch ms, 13 digits>   one datapoint (TTL'd by `expiresAt`, seconds)
 *   pk = SNAPSHOT,       sk = HOST#<host>             the latest system metrics of one host
 */
const SNAPSHOT_PK = 'SNAPSHOT';

export class DynamoMetricsStore implements MetricsStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionSeconds: number,
  ) {}

  async putPoints(points: readonly Datapoint[]): Promise<void> {
    // DynamoDB rejects a batch that names one key twice; the last value for a series and instant wins.
    const items = new Map<string, Record<string, unknown>>();
    for (const point of points) {
      const pk = `S#${seriesKey(point.name, point.labels)}`;
      const sk = String(point.timestamp).padStart(13, '0');
      items.set(`${pk}|${sk}`, {
        pk,
        sk,
        name: point.name,
        labels: point.labels,
        value: point.value,
        expiresAt: Math.floor(point.timestamp / 1000) + this.retentionSeconds,
      });
    }
    await batchWriteAll(
      this.client,
      this.tableName,
      [...items.values()].map((Item) => ({ PutRequest: { Item } })),
    );
  }

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
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': SNAPSHOT_PK },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (!newest || (item.timestamp as number) > (newest.timestamp as number)) newest = item;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return newest ? toSnapshot(newest) : undefined;
  }
}

function toSnapshot(item: Record<string, unknown>): HostSnapshot {
  const { pk: _pk, sk: _sk, timestamp, host, ...metrics } = item;
  return {
    timestamp: new Date(timestamp as number).toISOString(),
    host: host as string,
    ...(metrics as Record<string, number>),
  };
}
