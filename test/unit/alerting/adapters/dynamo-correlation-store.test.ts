import { gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DynamoAlertsView,
  DynamoGroupStore,
  DynamoIncidentStore,
  DynamoRoutingStore,
  RESOLVED_INCIDENT_RETENTION_SECONDS,
} from '../../../../functions/shared/adapters/dynamo-correlation-store';
import type { Effect } from '../../../../functions/shared/domain/alerting/dispatch/dispatcher';
import type { GroupState } from '../../../../functions/shared/domain/alerting/dispatch/group';
import {
  appendTimeline,
  type Incident,
  openIncident,
  resolveIncident,
} from '../../../../functions/shared/domain/alerting/dispatch/incident';
import { timeOrderedId } from '../../../../functions/shared/domain/alerting/ids';
import type { AlertRecord, RoutingConfig } from '../../../../functions/shared/domain/alerting/stores';
import { Correlator, firing, T0 } from '../dispatch/harness';

const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const TABLE = 'alerting';
const DAY_SECONDS = 86_400;

const conditionFailed = () => new ConditionalCheckFailedException({ message: 'x', $metadata: {} });
const throttled = () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });

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

afterEach(() => ddb.reset());

/** A real group, built by the dispatcher: one alert waiting for group_wait, with its effects. */
function groupWithAlert(): { state: GroupState; effects: Effect[] } {
  const correlator = new Correlator({ receiver: 'pager', group_by: ['alertname'], group_wait: '30s' });
  correlator.send(firing({ alertname: 'HighCPU', host: 'web-1' }, T0));
  const [groupId] = correlator.groupIds();
  return { state: correlator.state(groupId as string), effects: correlator.effects };
}

/** The items the last PutCommand wrote. */
const lastPutItem = () => ddb.commandCalls(PutCommand).at(-1)?.args[0].input.Item ?? {};

describe('DynamoGroupStore', () => {
  it('stores the group gzipped and reads back the same state and outbox', async () => {
    // Prepare
    const { state, effects } = groupWithAlert();
    ddb.on(PutCommand).resolves({});
    const store = new DynamoGroupStore(doc, TABLE);
    await store.put({ state, outbox: effects, outboxAt: 1_700_000_000_000 }, undefined);
    const written = lastPutItem();
    ddb.on(GetCommand).resolves({ Item: written });

    // Act
    const read = await store.get(state.groupId);

    // Assess: the outbox comes back with when it was written (its writer's lease).
    expect(read).toEqual({ state, outbox: effects, outboxAt: 1_700_000_000_000 });
    expect(written.state).toBeInstanceOf(Uint8Array);
    expect(written.groupId).toBe(state.groupId);
    expect(written.revision).toBe(state.revision);
    const get = ddb.commandCalls(GetCommand)[0]?.args[0].input;
    expect(get?.Key).toEqual({ pk: written.pk, sk: 'GROUP' });
    expect(get?.ConsistentRead).toBe(true);
  });

  it('keys a group by a hash of its id, never the raw id, and the same id always to the same key', async () => {
    // Prepare
    const { state } = groupWithAlert();
    const other = { ...state, groupId: `${state.groupId}-other` };
    ddb.on(PutCommand).resolves({});
    const store = new DynamoGroupStore(doc, TABLE);

    // Act
    await store.put({ state, outbox: [] }, undefined);
    const first = lastPutItem();
    await store.put({ state, outbox: [] }, undefined);
    const again = lastPutItem();
    await store.put({ state: other, outbox: [] }, undefined);
    const different = lastPutItem();

    // Assess
    expect(first.sk).toBe('GROUP');
    expect(first.pk).toMatch(/^GROUP#[A-Za-z0-9_-]{43}$/);
    expect(first.pk).not.toContain('HighCPU');
    expect(again.pk).toBe(first.pk);
    expect(different.pk).not.toBe(first.pk);
  });

  it('creates a group only where none is stored and leaves out an empty outbox', async () => {
    // Prepare
    const { state } = groupWithAlert();
    ddb.on(PutCommand).resolves({});
    ddb.on(GetCommand).callsFake(() => ({ Item: lastPutItem() }));
    const store = new DynamoGroupStore(doc, TABLE);

    // Act
    const written = await store.put({ state, outbox: [] }, undefined);
    const read = await store.get(state.groupId);

    // Assess
    expect(written).toBe(true);
    const input = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input?.ExpressionAttributeValues).toBeUndefined();
    expect(input?.Item).not.toHaveProperty('outbox');
    expect(read?.outbox).toEqual([]);
  });

  it('replaces a group only at the revision it was read at, answering false on a lost race', async () => {
    // Prepare
    const { state } = groupWithAlert();
    ddb.on(PutCommand).rejects(conditionFailed());
    const store = new DynamoGroupStore(doc, TABLE);

    // Act
    const written = await store.put({ state: { ...state, revision: 5 }, outbox: [] }, 4);

    // Assess
    expect(written).toBe(false);
    const input = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(rendered(input)).toBe('revision = 4');
  });

  it('rethrows a write error other than a lost race', async () => {
    // Prepare
    const { state } = groupWithAlert();
    ddb.on(PutCommand).rejects(throttled());
    const store = new DynamoGroupStore(doc, TABLE);

    // Act
    const outcome = store.put({ state, outbox: [] }, 1);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('sets the TTL in epoch seconds, rounded up, from expiresAt in milliseconds; none while it is null', async () => {
    // Prepare
    const { state } = groupWithAlert();
    ddb.on(PutCommand).resolves({});
    const store = new DynamoGroupStore(doc, TABLE);

    // Act
    await store.put({ state: { ...state, expiresAt: T0 + 1_500 }, outbox: [] }, undefined);
    const expiring = lastPutItem();
    await store.put({ state: { ...state, expiresAt: null }, outbox: [] }, undefined);
    const kept = lastPutItem();

    // Assess
    expect(expiring.expiresAt).toBe(T0 / 1000 + 2);
    expect(kept).not.toHaveProperty('expiresAt');
  });

  it('answers undefined for a group never stored', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    const store = new DynamoGroupStore(doc, TABLE);

    // Act
    const read = await store.get('{}:{alertname="Nope"}|pager');

    // Assess
    expect(read).toBeUndefined();
  });

  it('clears the outbox only at its revision and swallows the conditional failure of a newer write', async () => {
    // Prepare
    const { state } = groupWithAlert();
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).rejects(conditionFailed());
    const store = new DynamoGroupStore(doc, TABLE);
    await store.put({ state, outbox: [] }, undefined);
    const key = { pk: lastPutItem().pk, sk: 'GROUP' };

    // Act
    const outcome = store.clearOutbox(state.groupId, 3);

    // Assess
    await expect(outcome).resolves.toBeUndefined();
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ Key: key, UpdateExpression: 'REMOVE outbox' });
    expect(rendered(input)).toBe('revision = 3');
  });

  it('rethrows any other error while clearing the outbox', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(throttled());
    const store = new DynamoGroupStore(doc, TABLE);

    // Act
    const outcome = store.clearOutbox('{}:{alertname="HighCPU"}|pager', 3);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });
});

const MINUTE = 60_000;

function incident(openedAt: number, options: { severity?: string; fingerprint?: string } = {}): Incident {
  const opened = openIncident(
    timeOrderedId(openedAt),
    {
      groupId: '{}:{alertname="HighCPU"}|pager',
      groupKey: '{}:{alertname="HighCPU"}',
      receiver: 'pager',
      groupLabels: { alertname: 'HighCPU' },
    },
    openedAt,
  );
  return appendTimeline(opened, [
    {
      type: 'alert_joined',
      at: openedAt,
      fingerprint: options.fingerprint ?? 'a1b2c3d4e5f60718',
      labels: { alertname: 'HighCPU', severity: options.severity ?? 'critical' },
    },
  ]);
}

/** The item the store writes for an incident, captured by a client that only records. */
async function incidentItem(value: Incident, revision = 1): Promise<Record<string, unknown>> {
  let item: Record<string, unknown> = {};
  const recorder = {
    send: async (command: PutCommand) => {
      item = command.input.Item ?? {};
      return {};
    },
  } as unknown as DynamoDBDocumentClient;
  await new DynamoIncidentStore(recorder, TABLE).put(value, revision);
  return item;
}

describe('DynamoIncidentStore.put and get', () => {
  it('writes the filterable facts beside the gzipped body, unless a newer revision is stored', async () => {
    // Prepare
    const value = incident(T0, { severity: 'warning' });
    ddb.on(PutCommand).resolves({});
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    await store.put(value, 7);

    // Assess
    const input = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(rendered(input)).toBe('attribute_not_exists(pk) OR revision <= 7');
    expect(input?.Item).toMatchObject({
      pk: 'INCIDENT',
      sk: value.id,
      revision: 7,
      status: 'open',
      receiver: 'pager',
      severity: 'warning',
      fingerprints: ['a1b2c3d4e5f60718'],
    });
    expect(input?.Item).not.toHaveProperty('expiresAt');
  });

  it('swallows the conditional failure of a late, older snapshot', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(conditionFailed());
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    const outcome = store.put(incident(T0), 1);

    // Assess
    await expect(outcome).resolves.toBeUndefined();
  });

  it('rethrows any other write error', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(throttled());
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    const outcome = store.put(incident(T0), 1);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('lets a resolved incident expire 90 days after it resolved, in epoch seconds', async () => {
    // Prepare
    const resolvedAt = T0 + 10 * MINUTE + 250;
    const value = resolveIncident(incident(T0), 'alice', resolvedAt);
    ddb.on(PutCommand).resolves({});
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    await store.put(value, 2);

    // Assess
    const item = lastPutItem();
    expect(item.status).toBe('resolved');
    expect(item.expiresAt).toBe(Math.ceil(resolvedAt / 1000) + 90 * DAY_SECONDS);
    expect(RESOLVED_INCIDENT_RETENTION_SECONDS).toBe(90 * DAY_SECONDS);
  });

  it('reads back the incident it stored, and undefined for an unknown id', async () => {
    // Prepare
    const value = incident(T0);
    const unknownId = timeOrderedId(T0 + 1);
    const item = await incidentItem(value);
    ddb.on(GetCommand, { Key: { pk: 'INCIDENT', sk: value.id } }).resolves({ Item: item });
    ddb.on(GetCommand, { Key: { pk: 'INCIDENT', sk: unknownId } }).resolves({});
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    const found = await store.get(value.id);
    const missing = await store.get(unknownId);

    // Assess
    expect(found).toEqual(value);
    expect(missing).toBeUndefined();
  });
});

describe('DynamoIncidentStore.list', () => {
  const queries = () => ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);

  it('reads the partition newest first, with no filter expression when none is asked', async () => {
    // Prepare
    const newer = incident(T0 + MINUTE);
    const older = incident(T0);
    ddb.on(QueryCommand).resolves({ Items: [await incidentItem(newer), await incidentItem(older)] });
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    const page = await store.list({ limit: 50 });

    // Assess
    expect(page).toEqual({ incidents: [newer, older] });
    const [query] = queries();
    expect(query).toMatchObject({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'INCIDENT' },
      ScanIndexForward: false,
    });
    expect(query?.FilterExpression).toBeUndefined();
    expect(query?.ExpressionAttributeNames).toBeUndefined();
    expect(query?.ExclusiveStartKey).toBeUndefined();
  });

  it('filters by status, receiver and severity with names, and by fingerprint with contains()', async () => {
    // Prepare
    ddb.on(QueryCommand).resolves({ Items: [] });
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    await store.list({
      status: 'open',
      receiver: 'pager',
      severity: 'critical',
      fingerprint: 'a1b2c3d4e5f60718',
      limit: 10,
    });

    // Assess
    const [query] = queries();
    expect(rendered(query, query?.FilterExpression)).toBe(
      'status = "open" AND receiver = "pager" AND severity = "critical" AND contains(fingerprints, "a1b2c3d4e5f60718")',
    );
    // `status` is a DynamoDB reserved word: it must go through an attribute name.
    expect(query?.FilterExpression).not.toMatch(/(^|[^#:\w])status\b/);
  });

  it('turns `since` into a key range that keeps incidents opened at that instant and drops earlier ones', async () => {
    // Prepare
    ddb.on(QueryCommand).resolves({ Items: [] });
    const store = new DynamoIncidentStore(doc, TABLE);
    const since = T0 + 5 * MINUTE;

    // Act
    await store.list({ since, limit: 10 });

    // Assess
    const [query] = queries();
    expect(query?.KeyConditionExpression).toBe('pk = :pk AND sk >= :since');
    expect(query?.FilterExpression).toBeUndefined();
    const bound = query?.ExpressionAttributeValues?.[':since'] as string;
    const openedAtSince = timeOrderedId(since, new Uint8Array(10));
    const openedAtSinceRandom = timeOrderedId(since, new Uint8Array(10).fill(7));
    const openedJustBefore = timeOrderedId(since - 1, new Uint8Array(10).fill(255));
    expect(bound).toBe(openedAtSince);
    expect(openedAtSinceRandom >= bound).toBe(true);
    expect(openedJustBefore < bound).toBe(true);
  });

  it('continues after the cursor', async () => {
    // Prepare
    ddb.on(QueryCommand).resolves({ Items: [] });
    const store = new DynamoIncidentStore(doc, TABLE);
    const cursor = timeOrderedId(T0);

    // Act
    await store.list({ cursor, limit: 10 });

    // Assess
    expect(queries()[0]?.ExclusiveStartKey).toEqual({ pk: 'INCIDENT', sk: cursor });
  });

  it('answers a cursor at the last incident returned when the page fills and more items remain', async () => {
    // Prepare
    const items = [incident(T0 + 3 * MINUTE), incident(T0 + 2 * MINUTE), incident(T0 + MINUTE)];
    ddb.on(QueryCommand).resolves({ Items: await Promise.all(items.map((i) => incidentItem(i))) });
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    const page = await store.list({ limit: 2 });

    // Assess
    expect(page.incidents.map((i) => i.id)).toEqual([items[0]?.id, items[1]?.id]);
    expect(page.nextCursor).toBe(items[1]?.id);
  });

  it('answers no cursor when the page fills with the partition’s last incident', async () => {
    // Prepare
    const items = [incident(T0 + MINUTE), incident(T0)];
    ddb.on(QueryCommand).resolves({ Items: await Promise.all(items.map((i) => incidentItem(i))) });
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    const page = await store.list({ limit: 2 });

    // Assess
    expect(page.incidents).toHaveLength(2);
    expect(page).not.toHaveProperty('nextCursor');
  });

  it('answers a cursor when the page fills at the end of a DynamoDB page that has a LastEvaluatedKey', async () => {
    // Prepare
    const items = [incident(T0 + MINUTE), incident(T0)];
    ddb.on(QueryCommand).resolves({
      Items: await Promise.all(items.map((i) => incidentItem(i))),
      LastEvaluatedKey: { pk: 'INCIDENT', sk: items[1]?.id },
    });
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    const page = await store.list({ limit: 2 });

    // Assess
    expect(page.nextCursor).toBe(items[1]?.id);
  });

  it('reads further DynamoDB pages until the limit is reached, starting each where the last ended', async () => {
    // Prepare
    const first = incident(T0 + 2 * MINUTE);
    const second = incident(T0 + MINUTE);
    const lastKey = { pk: 'INCIDENT', sk: timeOrderedId(T0 + 90_000) };
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [await incidentItem(first)], LastEvaluatedKey: lastKey })
      .resolvesOnce({ Items: [await incidentItem(second)] });
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    const page = await store.list({ status: 'open', limit: 5 });

    // Assess
    expect(page).toEqual({ incidents: [first, second] });
    expect(queries().map((q) => q.ExclusiveStartKey)).toEqual([undefined, lastKey]);
  });

  it('stops after a bounded number of pages and answers a cursor to carry on from', async () => {
    // Prepare
    const lastKey = { pk: 'INCIDENT', sk: timeOrderedId(T0) };
    ddb.on(QueryCommand).resolves({ Items: [], LastEvaluatedKey: lastKey });
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    const page = await store.list({ severity: 'info', limit: 5 });

    // Assess
    expect(queries()).toHaveLength(10);
    expect(page).toEqual({ incidents: [], nextCursor: lastKey.sk });
  });
});

describe('DynamoAlertsView', () => {
  const alert = (status: AlertRecord['status'], at: number): AlertRecord => ({
    fingerprint: 'a1b2c3d4e5f60718',
    labels: { alertname: 'HighCPU', host: 'web-1' },
    status,
    at,
  });

  it('records a firing alert unless a newer change is stored, with no TTL', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const view = new DynamoAlertsView(doc, TABLE);

    // Act
    await view.put(alert('firing', T0));

    // Assess
    const input = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(rendered(input)).toBe(`attribute_not_exists(pk) OR at <= ${T0}`);
    // `at` is a DynamoDB reserved word: it must go through an attribute name.
    expect(input?.ConditionExpression).not.toMatch(/(^|[^#:\w])at\b/);
    expect(input?.ExpressionAttributeValues).toEqual({ ':at': T0 });
    expect(input?.Item).toEqual({ pk: 'ALERT', sk: 'a1b2c3d4e5f60718', ...alert('firing', T0) });
  });

  it('lets a resolved alert expire a day after it resolved, in epoch seconds', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    const view = new DynamoAlertsView(doc, TABLE);

    // Act
    await view.put(alert('resolved', T0 + 400));

    // Assess
    expect(lastPutItem().expiresAt).toBe(T0 / 1000 + 1 + DAY_SECONDS);
  });

  it('swallows the conditional failure of a late, older change', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(conditionFailed());
    const view = new DynamoAlertsView(doc, TABLE);

    // Act
    const outcome = view.put(alert('firing', T0));

    // Assess
    await expect(outcome).resolves.toBeUndefined();
  });

  it('lists the records of the ALERT partition without the key attributes', async () => {
    // Prepare
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ pk: 'ALERT', sk: 'a1', ...alert('firing', T0), fingerprint: 'a1' }],
        LastEvaluatedKey: { pk: 'ALERT', sk: 'a1' },
      })
      .resolvesOnce({
        Items: [{ pk: 'ALERT', sk: 'b2', ...alert('resolved', T0), fingerprint: 'b2', expiresAt: 1 }],
      });
    const view = new DynamoAlertsView(doc, TABLE);

    // Act
    const alerts = await view.list();

    // Assess
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input.ExpressionAttributeValues).toEqual({
      ':pk': 'ALERT',
    });
    expect(alerts).toEqual([
      { ...alert('firing', T0), fingerprint: 'a1' },
      { ...alert('resolved', T0), fingerprint: 'b2' },
    ]);
  });
});

describe('DynamoRoutingStore', () => {
  const config: RoutingConfig = {
    route: {
      receiver: 'pager',
      group_by: ['alertname'],
      routes: [{ receiver: 'team', matchers: ['a="b"'] }],
    },
    inhibit_rules: [],
  };
  const KEY = { pk: 'CONFIG', sk: 'routing' };

  it('stores the configuration as JSON and reads it back with its update time', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});
    ddb.on(GetCommand).callsFake(() => ({ Item: lastPutItem() }));
    const store = new DynamoRoutingStore(doc, TABLE);

    // Act
    await store.put(config, '2026-03-01T12:00:00.000Z');
    const read = await store.get();

    // Assess
    expect(lastPutItem()).toEqual({
      ...KEY,
      config: JSON.stringify(config),
      updatedAt: '2026-03-01T12:00:00.000Z',
    });
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input.Key).toEqual(KEY);
    expect(read).toEqual({ config, updatedAt: '2026-03-01T12:00:00.000Z' });
  });

  it('answers undefined when no routing was set at run time', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    const store = new DynamoRoutingStore(doc, TABLE);

    // Act
    const read = await store.get();

    // Assess
    expect(read).toBeUndefined();
  });

  it('deletes the routing item', async () => {
    // Prepare
    ddb.on(DeleteCommand).resolves({});
    const store = new DynamoRoutingStore(doc, TABLE);

    // Act
    await store.delete();

    // Assess
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toEqual({ TableName: TABLE, Key: KEY });
  });
});

describe('the gzipped body format', () => {
  it('reads a body any gzip writer produced, so items stay readable across deployments', async () => {
    // Prepare
    const value = incident(T0);
    ddb
      .on(GetCommand)
      .resolves({ Item: { pk: 'INCIDENT', sk: value.id, body: gzipSync(JSON.stringify(value)) } });
    const store = new DynamoIncidentStore(doc, TABLE);

    // Act
    const read = await store.get(value.id);

    // Assess
    expect(read).toEqual(value);
  });
});
