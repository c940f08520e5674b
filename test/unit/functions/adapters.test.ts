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
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiGatewayMessenger } from '../../../functions/shared/adapters/apigw-messenger';
import { batchWriteAll } from '../../../functions/shared/adapters/dynamo-batch';
import { DynamoConnectionRegistry } from '../../../functions/shared/adapters/dynamo-connection-registry';
import { DynamoMetricsStore } from '../../../functions/shared/adapters/dynamo-metrics-store';
import { DependencyError } from '../../../functions/shared/errors';

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

  it('reads subscribers from the channel index, page by page, without scanning', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ connectionId: 'a' }], LastEvaluatedKey: { channel: 'x', connectionId: 'a' } })
      .resolvesOnce({ Items: [{ connectionId: 'b' }] });
    const registry = new DynamoConnectionRegistry(doc, 'connections');

    const ids: string[] = [];
    for await (const id of registry.subscribers('system_metrics')) ids.push(id);

    expect(ids).toEqual(['a', 'b']);
    const queries = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries.every((input) => input.IndexName === 'byChannel')).toBe(true);
    expect(queries[1]?.ExclusiveStartKey).toEqual({ channel: 'x', connectionId: 'a' });
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
  it('writes one item per series and instant, the last duplicate winning', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    const store = new DynamoMetricsStore(doc, 'metrics', 3600);

    await store.putPoints([
      { name: 'cpu', value: 1, timestamp: 1_000, labels: { host: 'a' } },
      { name: 'cpu', value: 2, timestamp: 1_000, labels: { host: 'a' } },
    ]);

    const items = ddb
      .commandCalls(BatchWriteCommand)[0]
      ?.args[0].input.RequestItems?.metrics?.map((r) => r.PutRequest?.Item);
    expect(items).toEqual([
      {
        pk: 'S#cpu{host="a"}',
        sk: '0000000001000',
        name: 'cpu',
        labels: { host: 'a' },
        value: 2,
        expiresAt: 3601,
      },
    ]);
  });

  it('reports an out-of-order snapshot update as not merged', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'newer exists', $metadata: {} }));
    const store = new DynamoMetricsStore(doc, 'metrics', 3600);

    await expect(
      store.mergeSnapshot({ host: 'a', timestamp: 1, values: { cpu_usage: 1 } }),
    ).resolves.toBeUndefined();
  });

  it('returns the merged snapshot in the seed shape', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { pk: 'SNAPSHOT', sk: 'HOST#a', host: 'a', timestamp: 0, cpu_usage: 5, memory_usage: 6 },
    });
    const store = new DynamoMetricsStore(doc, 'metrics', 3600);

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
