import { randomUUID } from 'node:crypto';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local';
import type { LocalRuntime } from '../../local/runtime';
import { postJson, RecordingSocket, waitFor } from '../support/clients';
import { startTestRuntime } from '../support/runtime';

const AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/**
 * The LocalStack mode (`--engines <url>`) with engines the runtime does not own: here DynamoDB
 * Local and fauxqs started by the test, standing in for LocalStack's DynamoDB, SNS and SQS.
 */
describe('local runtime on external engines', () => {
  let dynamodb: DynamoDbLocal;
  let messaging: FauxqsServer;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    [dynamodb, messaging] = await Promise.all([
      startDynamoDbLocal(),
      startFauxqs({ port: 0, logger: false }),
    ]);
    runtime = await startTestRuntime({
      engines: { dynamodb: dynamodb.endpoint, messaging: messaging.address },
    });
  });

  afterAll(async () => {
    await runtime?.stop();
    await dynamodb?.stop();
    await messaging?.stop();
  });

  it('provisions the template’s tables and topic on the external endpoints', async () => {
    const ddb = new DynamoDBClient({ ...AWS, endpoint: dynamodb.endpoint });
    const sns = new SNSClient({ ...AWS, endpoint: messaging.address });

    const tables = (await ddb.send(new ListTablesCommand({}))).TableNames ?? [];
    const topics = (await sns.send(new ListTopicsCommand({}))).Topics ?? [];
    ddb.destroy();
    sns.destroy();

    expect(runtime.engines.dynamodb).toBe(dynamodb.endpoint);
    expect(tables.length).toBeGreaterThanOrEqual(3);
    expect(topics.map((t) => t.TopicArn).some((arn) => arn?.includes('Notifications'))).toBe(true);
  });

  it('ingests and broadcasts through them', async () => {
    const socket = await RecordingSocket.open(runtime.urls.WebSocketUrl);
    const host = `host-${randomUUID()}`;

    const response = await postJson(`${runtime.urls.HttpApiUrl}/api/metrics`, {
      metrics: [{ name: 'cpu_usage', value: 33, labels: { host } }],
    });
    await waitFor(
      () => socket.ofType('system_metrics').some((m) => (m.payload as { host: string }).host === host),
      'the broadcast',
    );
    await socket.close();

    expect(response.status).toBe(202);
  });

  it('leaves engines it did not start running when it stops', async () => {
    await runtime.stop();
    const ddb = new DynamoDBClient({ ...AWS, endpoint: dynamodb.endpoint });

    const tables = (await ddb.send(new ListTablesCommand({}))).TableNames ?? [];
    ddb.destroy();

    expect(tables.length).toBeGreaterThanOrEqual(3);
  });
});
