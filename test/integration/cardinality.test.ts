import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoMetricsStore } from '../../functions/shared/adapters/dynamo-metrics-store';
import type { Datapoint } from '../../functions/shared/domain/metrics';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local';

/** The cardinality guard on AWS's DynamoDB engine, where its transactions really contend. */
describe('cardinality guard on DynamoDB Local', () => {
  let engine: DynamoDbLocal;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  const table = `metrics-${randomUUID()}`;
  const point = (name: string, id: number): Datapoint => ({
    name,
    value: 1,
    timestamp: Date.now(),
    labels: { id: String(id) },
  });

  beforeAll(async () => {
    engine = await startDynamoDbLocal();
    client = new DynamoDBClient({
      endpoint: engine.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    doc = DynamoDBDocumentClient.from(client);
    await client.send(
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
  });

  afterAll(async () => {
    client?.destroy();
    await engine?.stop();
  });

  it('admits exactly the limit of new series when many register at once, and refuses the rest', async () => {
    const metric = `m_${randomUUID().slice(0, 8)}`;
    // Separate stores are separate Lambda containers: no shared cache of known series.
    const stores = Array.from(
      { length: 6 },
      () => new DynamoMetricsStore(doc, table, { maxSeriesPerMetric: 5 }),
    );

    const results = await Promise.all(
      stores.map((store, i) => store.registerSeries([point(metric, 2 * i), point(metric, 2 * i + 1)])),
    );

    const refused = results.reduce((sum, r) => sum + r.rejected.size, 0);
    expect(refused).toBe(12 - 5);
  });

  it('keeps accepting series it already admitted after the limit is reached', async () => {
    const metric = `m_${randomUUID().slice(0, 8)}`;
    const first = new DynamoMetricsStore(doc, table, { maxSeriesPerMetric: 2 });
    await first.registerSeries([point(metric, 1), point(metric, 2)]);

    const anotherContainer = new DynamoMetricsStore(doc, table, { maxSeriesPerMetric: 2 });
    const again = await anotherContainer.registerSeries([point(metric, 1), point(metric, 3)]);

    expect([...again.rejected]).toEqual([1]);
  });
});
