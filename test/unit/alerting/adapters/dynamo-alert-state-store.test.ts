import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DynamoAlertStateStore } from '../../../../functions/shared/adapters/dynamo-alert-state-store';
import {
  type AlertTransition,
  initialState,
  type SeriesAlertState,
} from '../../../../functions/shared/domain/alerting/evaluation';
import { parseRule } from '../../../../functions/shared/domain/alerting/rules';
import type { StoredAlertState } from '../../../../functions/shared/domain/alerting/stores';

const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const TABLE = 'alerting';
const T0 = Date.parse('2026-03-01T12:00:00Z');
const KEY = '{host="web-1"}';

const rule = parseRule({
  name: 'HighCpu',
  metric: 'cpu_usage',
  severity: 'critical',
  kind: 'threshold',
  op: '>',
  value: 90,
});

function state(version: number, host = 'web-1'): SeriesAlertState {
  return { ...initialState(rule, { host }, T0), version, phase: 'firing', holding: true };
}

const transition: AlertTransition = {
  status: 'firing',
  fingerprint: '0123456789abcdef',
  rule: 'HighCpu',
  labels: { host: 'web-1', alertname: 'HighCpu', severity: 'critical' },
  annotations: { summary: 'CPU is high' },
  value: 97,
  startsAt: new Date(T0).toISOString(),
};

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'x', $metadata: {} });
const throttled = () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });

/** An item as the store writes it, for read tests. */
const item = (stored: StoredAlertState, sk: string) => ({
  pk: `STATE#${stored.state.rule}`,
  sk,
  version: stored.state.version,
  state: JSON.stringify(stored.state),
  ...(stored.outbox.length > 0 ? { outbox: JSON.stringify(stored.outbox) } : {}),
});

/**
 * An expression as DynamoDB evaluates it: `#name` and `:value` placeholders replaced by the
 * attribute names and (JSON) values they stand for, so a test does not depend on placeholder names.
 */
function rendered(
  input:
    | {
        ConditionExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues?: Record<string, unknown>;
      }
    | undefined,
  expression = input?.ConditionExpression,
): string {
  return (expression ?? '').replace(/[#:]\w+/g, (token) => {
    if (token.startsWith('#')) return input?.ExpressionAttributeNames?.[token] ?? token;
    const values = input?.ExpressionAttributeValues ?? {};
    return token in values ? JSON.stringify(values[token]) : token;
  });
}

afterEach(() => {
  ddb.reset();
  vi.restoreAllMocks();
});

describe('DynamoAlertStateStore.put', () => {
  it('creates a state only where none is stored, without an outbox attribute when the outbox is empty', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    const written = await store.put(KEY, { state: state(1), outbox: [] }, undefined);

    // Assess
    expect(written).toBe(true);
    const input = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input?.TableName).toBe(TABLE);
    expect(input?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input?.ExpressionAttributeValues).toBeUndefined();
    expect(input?.Item).toEqual({
      pk: 'STATE#HighCpu',
      sk: KEY,
      version: 1,
      state: JSON.stringify(state(1)),
    });
    expect(input?.Item).not.toHaveProperty('outbox');
  });

  it('replaces a state only at the version it was read at, and stores a non-empty outbox as JSON', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    const written = await store.put(KEY, { state: state(3), outbox: [transition] }, 2);

    // Assess
    expect(written).toBe(true);
    const input = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(rendered(input)).toBe('version = 2');
    expect(input?.Item?.version).toBe(3);
    expect(JSON.parse(input?.Item?.outbox as string)).toEqual([transition]);
  });

  it('answers false when another writer won the race (ConditionalCheckFailedException)', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(conditionFailed());
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    const written = await store.put(KEY, { state: state(3), outbox: [] }, 2);

    // Assess
    expect(written).toBe(false);
  });

  it('rethrows any other DynamoDB error', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(throttled());
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    const outcome = store.put(KEY, { state: state(1), outbox: [] }, undefined);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });
});

describe('DynamoAlertStateStore.getMany', () => {
  it("reads the rule's partition by key with BatchGet and parses state and outbox", async () => {
    // Prepare
    const stored: StoredAlertState = { state: state(4), outbox: [transition] };
    ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [item(stored, KEY)] } });
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    const found = await store.getMany('HighCpu', [KEY, '{host="web-2"}']);

    // Assess
    const request = ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.[TABLE];
    expect(request?.Keys).toEqual([
      { pk: 'STATE#HighCpu', sk: KEY },
      { pk: 'STATE#HighCpu', sk: '{host="web-2"}' },
    ]);
    expect([...found.keys()]).toEqual([KEY]);
    expect(found.get(KEY)).toEqual(stored);
  });

  it('asks again for the keys DynamoDB left unprocessed and returns every item', async () => {
    // Prepare
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const web2Key = '{host="web-2"}';
    const first: StoredAlertState = { state: state(1), outbox: [] };
    const second: StoredAlertState = { state: state(2, 'web-2'), outbox: [] };
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [item(first, KEY)] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'STATE#HighCpu', sk: web2Key }] } },
      })
      .resolvesOnce({ Responses: { [TABLE]: [item(second, web2Key)] } });
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    const found = await store.getMany('HighCpu', [KEY, web2Key]);

    // Assess
    const calls = ddb.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.RequestItems?.[TABLE]?.Keys).toEqual([
      { pk: 'STATE#HighCpu', sk: web2Key },
    ]);
    expect(found.get(KEY)).toEqual(first);
    expect(found.get(web2Key)).toEqual(second);
  });
});

describe('DynamoAlertStateStore.list', () => {
  it("parses every item of the rule's partition, across pages, with its key", async () => {
    // Prepare
    const first: StoredAlertState = { state: state(1), outbox: [] };
    const second: StoredAlertState = { state: state(5, 'web-2'), outbox: [transition] };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [item(first, KEY)], LastEvaluatedKey: { pk: 'STATE#HighCpu', sk: KEY } })
      .resolvesOnce({ Items: [item(second, '{host="web-2"}')] });
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    const listed = await store.list('HighCpu');

    // Assess
    const queries = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries[0]?.ExpressionAttributeValues).toEqual({ ':pk': 'STATE#HighCpu' });
    expect(queries[1]?.ExclusiveStartKey).toEqual({ pk: 'STATE#HighCpu', sk: KEY });
    expect(listed).toEqual([
      { key: KEY, ...first },
      { key: '{host="web-2"}', ...second },
    ]);
  });
});

describe('DynamoAlertStateStore.clearOutbox and delete', () => {
  it('removes the outbox only at the version that wrote it', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    await store.clearOutbox('HighCpu', KEY, 7);

    // Assess
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ Key: { pk: 'STATE#HighCpu', sk: KEY }, UpdateExpression: 'REMOVE outbox' });
    expect(rendered(input)).toBe('version = 7');
  });

  it('swallows a conditional failure: a newer write carried the outbox forward', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    const outcome = store.clearOutbox('HighCpu', KEY, 7);

    // Assess
    await expect(outcome).resolves.toBeUndefined();
  });

  it('rethrows any other error while clearing the outbox', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(throttled());
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    const outcome = store.clearOutbox('HighCpu', KEY, 7);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('deletes the state by its partition and series key', async () => {
    // Prepare
    ddb.on(DeleteCommand).resolves({});
    const store = new DynamoAlertStateStore(doc, TABLE);

    // Act
    await store.delete('HighCpu', KEY);

    // Assess
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: 'STATE#HighCpu', sk: KEY },
    });
  });
});
