import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiGatewayMessenger } from '../../../functions/shared/adapters/apigw-messenger';
import { batchWriteAll } from '../../../functions/shared/adapters/dynamo-batch';
import { DynamoConnectionRegistry } from '../../../functions/shared/adapters/dynamo-connection-registry';
import { DynamoMetricsStore } from '../../../functions/shared/adapters/dynamo-metrics-store';
import { InvalidChannelError } from '../../../functions/shared/domain/channels';
import { DependencyError } from '../../../functions/shared/errors';
import type { Subscription } from '../../../functions/shared/ports';

const ddb = mockClient(DynamoDBDocumentClient);
const apigw = mockClient(ApiGatewayManagementApiClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

afterEach(() => {
  ddb.reset();
  apigw.reset();
});

describe('DynamoConnectionRegistry', () => {
  const NOW = Date.parse('2026-11-24T06:00:00Z');

  it('registers the connection and its default channel with a TTL in epoch seconds', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    const registry = new DynamoConnectionRegistry(doc, 'connections');

    await registry.register('abc=', NOW, ['system_metrics']);

    const items = ddb
      .commandCalls(BatchWriteCommand)[0]
      ?.args[0].input.RequestItems?.connections?.map((r) => r.PutRequest?.Item);
    expect(items).toEqual([
      expect.objectContaining({ pk: 'CONN#abc=', sk: 'META', connectionId: 'abc=' }),
      expect.objectContaining({
        pk: 'CONN#abc=',
        sk: 'SUB#system_metrics',
        channel: 'system_metrics',
        connectionId: 'abc=',
      }),
    ]);
    const expiresAt = items?.[0]?.expiresAt as number;
    expect(expiresAt).toBe(NOW / 1000 + 2 * 3600 + 15 * 60);
  });

  it('stores one item per full channel, keyed for lookup by the channel without its matchers', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    const registry = new DynamoConnectionRegistry(doc, 'connections', () => NOW);

    await registry.subscribe('abc=', [
      'metrics:cpu_usage{host="web-1"}',
      'metrics:cpu_usage{ env=~"prod|stage" }',
      'metrics:cpu_usage{host="web-1"}',
      'alerts',
    ]);

    const items = ddb
      .commandCalls(BatchWriteCommand)[0]
      ?.args[0].input.RequestItems?.connections?.map((r) => r.PutRequest?.Item);
    expect(items).toEqual([
      {
        pk: 'CONN#abc=',
        sk: 'SUB#metrics:cpu_usage{host="web-1"}',
        channel: 'metrics:cpu_usage',
        connectionId: 'abc=',
        expiresAt: NOW / 1000 + 2 * 3600 + 15 * 60,
      },
      expect.objectContaining({
        sk: 'SUB#metrics:cpu_usage{env=~"prod|stage"}',
        channel: 'metrics:cpu_usage',
      }),
      expect.objectContaining({ sk: 'SUB#alerts', channel: 'alerts' }),
    ]);
  });

  it('refuses to store a channel that breaks the grammar', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    const registry = new DynamoConnectionRegistry(doc, 'connections');

    await expect(registry.subscribe('a', ['metrics:cpu{host=web-1}'])).rejects.toBeInstanceOf(
      InvalidChannelError,
    );
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('unsubscribes by the canonical channel text', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    const registry = new DynamoConnectionRegistry(doc, 'connections');

    await registry.unsubscribe('a', ['metrics:cpu_usage{ region!="eu", host="web-1" }']);

    const deletes = ddb.commandCalls(BatchWriteCommand)[0]?.args[0].input.RequestItems?.connections;
    expect(deletes?.map((r) => r.DeleteRequest?.Key)).toEqual([
      { pk: 'CONN#a', sk: 'SUB#metrics:cpu_usage{host="web-1",region!="eu"}' },
    ]);
  });

  it('reads subscribers from the channel index by index key, page by page, without scanning', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ connectionId: 'a', sk: 'SUB#metrics:cpu_usage{host="web-1"}' }],
        LastEvaluatedKey: { channel: 'metrics:cpu_usage', connectionId: 'a', pk: 'CONN#a', sk: 'SUB#x' },
      })
      .resolvesOnce({ Items: [{ connectionId: 'b', sk: 'SUB#metrics:cpu_usage' }] });
    const registry = new DynamoConnectionRegistry(doc, 'connections');

    const found: Subscription[] = [];
    for await (const subscription of registry.subscribers('metrics:cpu_usage')) found.push(subscription);

    expect(found).toEqual([
      { connectionId: 'a', channel: 'metrics:cpu_usage{host="web-1"}' },
      { connectionId: 'b', channel: 'metrics:cpu_usage' },
    ]);
    const queries = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries).toHaveLength(2);
    for (const input of queries) {
      expect(input).toMatchObject({
        IndexName: 'byChannel',
        KeyConditionExpression: '#key = :key',
        ExpressionAttributeNames: { '#key': 'channel', '#id': 'connectionId' },
        ExpressionAttributeValues: { ':key': 'metrics:cpu_usage' },
        ProjectionExpression: '#id, sk',
      });
    }
    expect(queries[1]?.ExclusiveStartKey).toEqual({
      channel: 'metrics:cpu_usage',
      connectionId: 'a',
      pk: 'CONN#a',
      sk: 'SUB#x',
    });
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(0);
  });

  it("lists a connection's subscriptions from its own partition, consistently, page by page", async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ sk: 'SUB#system_metrics' }],
        LastEvaluatedKey: { pk: 'CONN#a', sk: 'SUB#s' },
      })
      .resolvesOnce({ Items: [{ sk: 'SUB#metrics:cpu_usage{host="web-1"}' }] });
    const registry = new DynamoConnectionRegistry(doc, 'connections');

    const channels = await registry.subscriptionsOf('a');

    expect(channels).toEqual(['system_metrics', 'metrics:cpu_usage{host="web-1"}']);
    const queries = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries[0]).toMatchObject({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
      ExpressionAttributeValues: { ':pk': 'CONN#a', ':sub': 'SUB#' },
      ConsistentRead: true,
    });
    expect(queries[0]?.IndexName).toBeUndefined();
    expect(queries[1]?.ExclusiveStartKey).toEqual({ pk: 'CONN#a', sk: 'SUB#s' });
  });

  it('forgets a connection by deleting every item of its own partition', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        { pk: 'CONN#a', sk: 'META' },
        { pk: 'CONN#a', sk: 'SUB#system_metrics' },
      ],
    });
    ddb.on(BatchWriteCommand).resolves({});
    const registry = new DynamoConnectionRegistry(doc, 'connections');

    await registry.forget('a');

    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'CONN#a' },
      ConsistentRead: true,
    });
    const deletes = ddb.commandCalls(BatchWriteCommand)[0]?.args[0].input.RequestItems?.connections;
    expect(deletes?.map((r) => r.DeleteRequest?.Key)).toEqual([
      { pk: 'CONN#a', sk: 'META' },
      { pk: 'CONN#a', sk: 'SUB#system_metrics' },
    ]);
  });
});

describe('batchWriteAll', () => {
  it('retries unprocessed items until DynamoDB takes them all', async () => {
    const put = { PutRequest: { Item: { pk: 'p', sk: 's' } } };
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { t: [put] } })
      .resolvesOnce({});

    await batchWriteAll(doc, 't', [put, { PutRequest: { Item: { pk: 'p', sk: 't' } } }]);

    const calls = ddb.commandCalls(BatchWriteCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.RequestItems?.t).toEqual([put]);
  });

  it('splits large writes into batches of 25', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    const puts = Array.from({ length: 60 }, (_, i) => ({ PutRequest: { Item: { pk: 'p', sk: String(i) } } }));

    await batchWriteAll(doc, 't', puts);

    expect(ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.t?.length)).toEqual([
      25, 25, 10,
    ]);
  });

  it('fails loudly instead of dropping items DynamoDB keeps refusing', async () => {
    const put = { PutRequest: { Item: { pk: 'p', sk: 's' } } };
    ddb.on(BatchWriteCommand).resolves({ UnprocessedItems: { t: [put] } });

    await expect(batchWriteAll(doc, 't', [put])).rejects.toBeInstanceOf(DependencyError);
  });
});

describe('DynamoMetricsStore', () => {
  it('reports an out-of-order snapshot update as not merged', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'newer exists', $metadata: {} }));
    const store = new DynamoMetricsStore(doc, 'metrics');

    await expect(
      store.mergeSnapshot({ host: 'a', timestamp: 1, values: { cpu_usage: 1 } }),
    ).resolves.toBeUndefined();
  });

  it('returns the merged snapshot in the seed shape', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { pk: 'SNAPSHOT', sk: 'HOST#a', host: 'a', timestamp: 0, cpu_usage: 5, memory_usage: 6 },
    });
    const store = new DynamoMetricsStore(doc, 'metrics');

    const snapshot = await store.mergeSnapshot({ host: 'a', timestamp: 0, values: { cpu_usage: 5 } });

    expect(snapshot).toEqual({
      host: 'a',
      timestamp: '1970-01-01T00:00:00.000Z',
      cpu_usage: 5,
      memory_usage: 6,
    });
  });
});

describe('ApiGatewayMessenger', () => {
  const client = new ApiGatewayManagementApiClient({
    region: 'us-east-1',
    endpoint: 'https://example.invalid/dev',
  });

  it('maps 410 GoneException to the gone outcome', async () => {
    apigw
      .on(PostToConnectionCommand)
      .rejects(new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } }));

    await expect(new ApiGatewayMessenger(client).send('a', 'x')).resolves.toBe('gone');
  });

  it('wraps other failures as a dependency error, keeping the cause', async () => {
    const cause = new Error('throttled');
    apigw.on(PostToConnectionCommand).rejects(cause);

    const error = await new ApiGatewayMessenger(client).send('a', 'x').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DependencyError);
    expect((error as DependencyError).cause).toBe(cause);
  });
});
