import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ConnectionRegistry } from '../ports';
import { CHANNEL_INDEX } from '../table-layout';
import { batchWriteAll } from './dynamo-batch';

/**
 * Connections table layout (one table, a sparse GSI):
 *   pk = CONN#<id>, sk = META          the connection itself
 *   pk = CONN#<id>, sk = SUB#<channel> one item per subscription, carrying `channel` and `connectionId`
 *   GSI byChannel: channel → connectionId, present only on subscription items
 * A broadcast queries the GSI by channel; forgetting a connection queries its own partition.
 * Nothing ever scans the table.
 */

/** API Gateway closes every connection after 2 hours; items outlive that by a margin, then TTL removes them. */
const MAX_CONNECTION_LIFE_SECONDS = 2 * 60 * 60;
const TTL_MARGIN_SECONDS = 15 * 60;

const connectionKey = (connectionId: string) => `CONN#${connectionId}`;

export class DynamoConnectionRegistry implements ConnectionRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async register(connectionId: string, connectedAt: number, channels: readonly string[]): Promise<void> {
    const expiresAt = this.expiresAt(connectedAt);
    await batchWriteAll(this.client, this.tableName, [
      {
        PutRequest: {
          Item: { pk: connectionKey(connectionId), sk: 'META', connectionId, connectedAt, expiresAt },
        },
      },
      ...this.subscriptionPuts(connectionId, channels, expiresAt),
    ]);
  }

  async subscribe(connectionId: string, channels: readonly string[]): Promise<void> {
    await batchWriteAll(
      this.client,
      this.tableName,
      this.subscriptionPuts(connectionId, channels, this.expiresAt(this.clock())),
    );
  }

  async unsubscribe(connectionId: string, channels: readonly string[]): Promise<void> {
    await batchWriteAll(
      this.client,
      this.tableName,
      unique(channels).map((channel) => ({
        DeleteRequest: { Key: { pk: connectionKey(connectionId), sk: `SUB#${channel}` } },
      })),
    );
  }

  async forget(connectionId: string): Promise<void> {
    const keys: { pk: string; sk: string }[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': connectionKey(connectionId) },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) keys.push({ pk: item.pk as string, sk: item.sk as string });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    await batchWriteAll(
      this.client,
      this.tableName,
      keys.map((Key) => ({ DeleteRequest: { Key } })),
    );
  }

  async *subscribers(channel: string): AsyncIterable<string> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: CHANNEL_INDEX.name,
          KeyConditionExpression: 'channel = :channel',
          ExpressionAttributeValues: { ':channel': channel },
          ProjectionExpression: 'connectionId',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) yield item.connectionId as string;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  private subscriptionPuts(connectionId: string, channels: readonly string[], expiresAt: number) {
    return unique(channels).map((channel) => ({
      PutRequest: {
        Item: { pk: connectionKey(connectionId), sk: `SUB#${channel}`, channel, connectionId, expiresAt },
      },
    }));
  }

  /** TTL in epoch seconds, as DynamoDB requires (milliseconds would keep items for millennia). */
  private expiresAt(fromMillis: number): number {
    return Math.floor(fromMillis / 1000) + MAX_CONNECTION_LIFE_SECONDS + TTL_MARGIN_SECONDS;
  }
}

const unique = (values: readonly string[]) => [...new Set(values)];
