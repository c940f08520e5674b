import { randomUUID } from 'node:crypto';
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadStackAssembly } from '../../local/assembly';
import type { LocalRuntime } from '../../local/runtime';
import { authedFetch, postJson, RecordingSocket, waitFor } from '../support/clients';
import { startTestRuntime } from '../support/runtime';

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('walking skeleton through the local runtime', () => {
  let runtime: LocalRuntime;
  let api: string;
  let ddb: DynamoDBDocumentClient;
  let connectionsTable: string;
  const sockets: RecordingSocket[] = [];

  const openSocket = async () => {
    const socket = await RecordingSocket.open(runtime.urls.WebSocketUrl);
    sockets.push(socket);
    return socket;
  };
  const connectionItems = async (connectionId: string) =>
    (
      await ddb.send(
        new QueryCommand({
          TableName: connectionsTable,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `CONN#${connectionId}` },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];

  beforeAll(async () => {
    runtime = await startTestRuntime();
    api = runtime.urls.HttpApiUrl;
    ddb = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: runtime.engines.dynamodb,
        region: 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
      }),
    );
    connectionsTable = runtime.resolver.resolveString({ Ref: connectionsTableId(inject('assemblyDir')) });
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    ddb?.destroy();
    await runtime?.stop();
  });

  it('accepts a metric batch with 202 and the count', async () => {
    const host = `host-${randomUUID()}`;

    const response = await postJson(`${api}/api/metrics`, {
      metrics: [
        { name: 'cpu_usage', value: 41.5, labels: { host } },
        { name: 'memory_usage', value: 62.25, labels: { host } },
        { name: 'requests_total', value: 7 },
      ],
    });

    expect(response).toEqual({ status: 202, body: { accepted: 3 } });
  });

  it('serves the latest host snapshot in the seed shape', async () => {
    const host = `host-${randomUUID()}`;
    await postJson(`${api}/api/metrics`, {
      metrics: [
        { name: 'cpu_usage', value: 12.5, timestamp: '2026-11-24T06:00:00.000Z', labels: { host } },
        { name: 'memory_usage', value: 48.2, timestamp: '2026-11-24T06:00:00.000Z', labels: { host } },
      ],
    });

    const response = await authedFetch(`${api}/api/dashboard/system-metrics?host=${host}`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      timestamp: '2026-11-24T06:00:00.000Z',
      host,
      cpu_usage: 12.5,
      memory_usage: 48.2,
    });
  });

  it('broadcasts ingested system metrics to a connected client, subscribed by default', async () => {
    const socket = await openSocket();
    const host = `host-${randomUUID()}`;

    await postJson(`${api}/api/metrics`, { metrics: [{ name: 'cpu_usage', value: 77, labels: { host } }] });
    await waitFor(
      () => socket.ofType('system_metrics').some((m) => (m.payload as { host: string }).host === host),
      'the broadcast',
    );

    const message = socket
      .ofType('system_metrics')
      .find((m) => (m.payload as { host: string }).host === host);
    expect(message?.payload).toMatchObject({ host, cpu_usage: 77 });
  });

  it('acknowledges subscribe and unsubscribe, and stops sending after unsubscribe', async () => {
    const leaving = await openSocket();
    const staying = await openSocket();

    leaving.send({ action: 'unsubscribe', channels: ['system_metrics'] });
    const ack = await leaving.next('unsubscribed', 0);
    const before = leaving.ofType('system_metrics').length;
    const seen = staying.ofType('system_metrics').length;
    await postJson(`${api}/api/metrics`, {
      metrics: [{ name: 'cpu_usage', value: 1, labels: { host: `h-${randomUUID()}` } }],
    });
    await staying.next('system_metrics', seen);

    expect(ack.payload).toEqual({ channels: ['system_metrics'] });
    expect(leaving.ofType('system_metrics').length).toBe(before);

    leaving.send({ action: 'subscribe', channels: ['system_metrics'] });
    expect((await leaving.next('subscribed', 0)).payload).toEqual({ channels: ['system_metrics'] });
  });

  it('answers a keepalive ping with a pong', async () => {
    const socket = await openSocket();

    socket.send({ action: 'ping' });

    expect(await socket.next('pong', 0)).toEqual({ type: 'pong', payload: {} });
  });

  it('answers bad WebSocket messages with an error envelope and keeps the connection', async () => {
    const socket = await openSocket();

    socket.send({ action: 'subscribe', channels: [] });
    const invalid = await socket.next('error', 0);
    socket.socket.send('not json');
    const unknown = await socket.next('error', 1);

    expect(invalid.payload).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(unknown.payload).toMatchObject({ code: 'UNKNOWN_ACTION' });
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
  });

  it('forgets a client that disconnects abruptly', async () => {
    const before = await registeredConnectionIds();
    const socket = await openSocket();
    await waitFor(
      async () => (await registeredConnectionIds()).length === before.length + 1,
      'the registration',
    );
    const [id] = (await registeredConnectionIds()).filter((candidate) => !before.includes(candidate));

    socket.socket.terminate();
    await waitFor(
      async () => (await connectionItems(id as string)).length === 0,
      'the registry to drop the connection',
    );

    expect(await connectionItems(id as string)).toEqual([]);
  });

  it('forgets a connection whose $disconnect never arrived, on the next 410', async () => {
    const ghost = `ghost-${randomUUID()}`;
    const { BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
    await ddb.send(
      new BatchWriteCommand({
        RequestItems: {
          [connectionsTable]: [
            { PutRequest: { Item: { pk: `CONN#${ghost}`, sk: 'META', connectionId: ghost } } },
            {
              PutRequest: {
                Item: {
                  pk: `CONN#${ghost}`,
                  sk: 'SUB#system_metrics',
                  channel: 'system_metrics',
                  connectionId: ghost,
                },
              },
            },
          ],
        },
      }),
    );
    const live = await openSocket();
    const seen = live.ofType('system_metrics').length;

    await postJson(`${api}/api/metrics`, {
      metrics: [{ name: 'cpu_usage', value: 5, labels: { host: `h-${randomUUID()}` } }],
    });
    await live.next('system_metrics', seen);
    await waitFor(
      async () => (await connectionItems(ghost)).length === 0,
      'the ghost connection to be forgotten',
    );

    expect(await connectionItems(ghost)).toEqual([]);
    expect(live.socket.readyState).toBe(live.socket.OPEN);
  });

  it('answers 410 Gone from the management API for an unknown connection id', async () => {
    const client = new ApiGatewayManagementApiClient({
      endpoint: runtime.urls.WebSocketUrl.replace(/^ws/, 'http'),
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });

    const error = await client
      .send(new PostToConnectionCommand({ ConnectionId: 'bm90LWEtY29ubg==', Data: 'x' }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(GoneException);
    expect((error as GoneException).$metadata.httpStatusCode).toBe(410);
    client.destroy();
  });

  it.each([
    ['malformed JSON', '{"metrics": [', {}, 400, 'MALFORMED_JSON'],
    ['an empty body', '', {}, 400, 'VALIDATION_FAILED'],
    ['an invalid datapoint', { metrics: [{ name: 'bad name', value: 1 }] }, {}, 400, 'VALIDATION_FAILED'],
    [
      'an unsupported content type',
      '<metric name="cpu_usage">1</metric>',
      { 'content-type': 'application/xml' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  ])('rejects %s with a JSON error and a 4xx', async (_case, body, headers, status, code) => {
    const response = await postJson(`${api}/api/metrics`, body, headers as Record<string, string>);

    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: { code, message: expect.any(String) } });
  });

  it('writes nothing for a batch in which no datapoint is valid', async () => {
    const host = `host-${randomUUID()}`;

    const answer = await postJson(`${api}/api/metrics`, {
      metrics: [
        { name: 'cpu_usage', value: 'high', labels: { host } },
        { name: '', value: 1 },
      ],
    });
    const response = await authedFetch(`${api}/api/dashboard/system-metrics?host=${host}`);

    expect(answer.status).toBe(400);
    expect(answer.body.error.rejected.map((r: { index: number }) => r.index)).toEqual([0, 1]);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  async function registeredConnectionIds(): Promise<string[]> {
    const result = await ddb.send(
      new QueryCommand({
        TableName: connectionsTable,
        IndexName: 'byChannel',
        KeyConditionExpression: 'channel = :c',
        ExpressionAttributeValues: { ':c': 'system_metrics' },
      }),
    );
    return (result.Items ?? []).map((item) => item.connectionId as string);
  }
});

/** The connections table is the one with the channel index. */
function connectionsTableId(assemblyDir: string): string {
  const { template } = loadStackAssembly(assemblyDir);
  const found = Object.entries(template.Resources).find(
    ([, r]) => r.Type === 'AWS::DynamoDB::Table' && JSON.stringify(r.Properties).includes('"byChannel"'),
  );
  if (!found) throw new Error('no connections table in the template');
  return found[0];
}
