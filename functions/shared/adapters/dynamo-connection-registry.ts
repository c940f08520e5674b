import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { indexKey, parseChannel } from '../domain/channels';
import type { ConnectionRegistry, Subscription } from '../ports';
import { CHANNEL_INDEX } from '../table-layout';
import { batchWriteAll } from './dynamo-batch';

/**
 * Connections table layout (one table, a sparse GSI):
 *   pk = CONN#<id>, sk = META                      the connection itself
 *   pk = CONN#<id>, sk = SUB#<canonical channel>   one item per subscription, carrying the channel's
 *                                                  index key in `channel` and `connectionId`
 *   GSI byChannel (KEYS_ONLY): channel (index key) → connectionId, only on subscription items
 * The sort key is unique per full channel text, so one connection may hold several subscriptions
 * to one metric with different matchers. A broadcast queries the GSI by index key
 * (`metrics:cpu_usage`); a KEYS_ONLY index projects the table keys too, so each result's `sk`
 * already carries the full channel text and no attribute is stored twice. Forgetting a connection,
 * and counting its subscriptions, query its own partition. Nothing ever scans the table.
 */

const SUBSCRIPTION_PREFIX = 'SUB#';

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
      canonical(channels).map((channel) => ({
        DeleteRequest: { Key: { pk: connectionKey(connectionId), sk: subscriptionKey(channel.text) } },
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

  async subscriptionsOf(connectionId: string): Promise<readonly string[]> {
    const channels: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
          ExpressionAttributeValues: { ':pk': connectionKey(connectionId), ':sub': SUBSCRIPTION_PREFIX },
          ProjectionExpression: 'sk',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) channels.push(channelOfKey(item.sk as string));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return channels;
  }

  async *subscribers(key: string): AsyncIterable<Subscription> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: CHANNEL_INDEX.name,
          KeyConditionExpression: '#key = :key',
          ExpressionAttributeNames: { '#key': CHANNEL_INDEX.partition, '#id': CHANNEL_INDEX.sort },
          ExpressionAttributeValues: { ':key': key },
          ProjectionExpression: '#id, sk',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        yield { connectionId: item[CHANNEL_INDEX.sort] as string, channel: channelOfKey(item.sk as string) };
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  private subscriptionPuts(connectionId: string, channels: readonly string[], expiresAt: number) {
    return canonical(channels).map((channel) => ({
      PutRequest: {
        Item: {
          pk: connectionKey(connectionId),
          sk: subscriptionKey(channel.text),
          [CHANNEL_INDEX.partition]: indexKey(channel),
          [CHANNEL_INDEX.sort]: connectionId,
          expiresAt,
        },
      },
    }));
  }

  /** TTL in epoch seconds, as DynamoDB requires (milliseconds would keep items for millennia). */
  private expiresAt(fromMillis: number): number {
    return Math.floor(fromMillis / 1000) + MAX_CONNECTION_LIFE_SECONDS + TTL_MARGIN_SECONDS;
  }
}

const subscriptionKey = (channelText: string) => `${SUBSCRIPTION_PREFIX}${channelText}`;
const channelOfKey = (sk: string) => sk.slice(SUBSCRIPTION_PREFIX.length);

/** Parses (throwing `InvalidChannelError` on a bad text) and deduplicates by canonical text. */
function canonical(channels: readonly string[]) {
  const byText = new Map(
    channels.map((text) => parseChannel(text)).map((channel) => [channel.text, channel]),
  );
  return [...byText.values()];
}
