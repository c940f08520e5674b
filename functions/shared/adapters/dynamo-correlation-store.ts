import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Effect } from '../domain/alerting/dispatch/dispatcher';
import type { GroupState } from '../domain/alerting/dispatch/group';
import { type Incident, incidentFacts } from '../domain/alerting/dispatch/incident';
import { timeOrderedId } from '../domain/alerting/ids';
import type { PostedAlert } from '../domain/alerting/postable';
import type {
  AlertRecord,
  AlertsView,
  GroupStore,
  IncidentFilter,
  IncidentStore,
  PostedAlertStore,
  RoutingConfig,
  RoutingStore,
  StoredGroup,
} from '../domain/alerting/stores';
import { readPartition } from './dynamo-alerting-store';
import { batchGetAll } from './dynamo-batch';
import { clearOutbox, putIfUnchanged } from './dynamo-versioned';

/**
 * The correlator's items in the alerting table:
 *   pk = GROUP#<sha256(groupId)>, sk = GROUP   one aggregation group: revision, gzipped state and outbox
 *   pk = INCIDENT, sk = <ULID id>              incident snapshots, newest last; resolved ones expire after 90 days
 *   pk = ALERT,    sk = <fingerprint>          the firing-alerts view; resolved ones expire after a day
 *   pk = CONFIG,   sk = routing                the routing set at run time
 * Group ids are Alertmanager group keys plus the receiver: arbitrary text up to kilobytes, so the
 * key is their hash and the id is kept inside.
 */
const GROUP_SK = 'GROUP';
const INCIDENTS_PK = 'INCIDENT';
const ALERTS_PK = 'ALERT';
const CONFIG_PK = 'CONFIG';
const ROUTING_SK = 'routing';
const DAY_SECONDS = 24 * 60 * 60;
export const RESOLVED_INCIDENT_RETENTION_SECONDS = 90 * DAY_SECONDS;
const RESOLVED_ALERT_RETENTION_SECONDS = DAY_SECONDS;
/** Pages a filtered incident listing reads before answering with what it found and a cursor. */
const MAX_LIST_PAGES = 10;

const pack = (value: unknown) => gzipSync(JSON.stringify(value));
const unpack = <T>(data: unknown): T => JSON.parse(gunzipSync(data as Uint8Array).toString('utf8')) as T;

async function putUnlessStale(
  client: DynamoDBDocumentClient,
  input: ConstructorParameters<typeof PutCommand>[0],
) {
  try {
    await client.send(new PutCommand(input));
  } catch (error) {
    // A newer snapshot is stored already: an older one arriving late must not replace it.
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

export class DynamoGroupStore implements GroupStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(groupId: string): Promise<StoredGroup | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: groupKey(groupId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      state: unpack<GroupState>(Item.state),
      outbox: Item.outbox === undefined ? [] : unpack<Effect[]>(Item.outbox),
      ...(typeof Item.outboxAt === 'number' ? { outboxAt: Item.outboxAt } : {}),
    };
  }

  put(next: StoredGroup, expectedRevision: number | undefined): Promise<boolean> {
    const { state } = next;
    const item = {
      ...groupKey(state.groupId),
      groupId: state.groupId,
      revision: state.revision,
      state: pack(state),
      ...(next.outbox.length > 0 ? { outbox: pack(next.outbox), outboxAt: next.outboxAt ?? Date.now() } : {}),
      ...(state.expiresAt === null ? {} : { expiresAt: Math.ceil(state.expiresAt / 1000) }),
    };
    return putIfUnchanged(this.client, this.tableName, item, 'revision', expectedRevision);
  }

  clearOutbox(groupId: string, revision: number): Promise<void> {
    return clearOutbox(this.client, this.tableName, groupKey(groupId), 'revision', revision);
  }
}

function groupKey(groupId: string) {
  return { pk: `GROUP#${createHash('sha256').update(groupId).digest('base64url')}`, sk: GROUP_SK };
}

export class DynamoIncidentStore implements IncidentStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(incident: Incident, revision: number): Promise<void> {
    const facts = incidentFacts(incident);
    await putUnlessStale(this.client, {
      TableName: this.tableName,
      Item: {
        pk: INCIDENTS_PK,
        sk: incident.id,
        revision,
        status: incident.status,
        receiver: incident.receiver,
        ...(facts.severity === undefined ? {} : { severity: facts.severity }),
        fingerprints: facts.fingerprints,
        body: pack(incident),
        ...(incident.resolvedAt === undefined
          ? {}
          : { expiresAt: Math.ceil(incident.resolvedAt / 1000) + RESOLVED_INCIDENT_RETENTION_SECONDS }),
      },
      ConditionExpression: 'attribute_not_exists(pk) OR revision <= :revision',
      ExpressionAttributeValues: { ':revision': revision },
    });
  }

  async get(id: string): Promise<Incident | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: INCIDENTS_PK, sk: id } }),
    );
    return Item ? unpack<Incident>(Item.body) : undefined;
  }

  async list(filter: IncidentFilter): Promise<{ incidents: Incident[]; nextCursor?: string }> {
    const conditions: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':pk': INCIDENTS_PK };
    const equal = (field: 'status' | 'receiver' | 'severity', value: string | undefined) => {
      if (value === undefined) return;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      conditions.push(`#${field} = :${field}`);
    };
    equal('status', filter.status);
    equal('receiver', filter.receiver);
    equal('severity', filter.severity);
    if (filter.fingerprint !== undefined) {
      values[':fingerprint'] = filter.fingerprint;
      conditions.push('contains(fingerprints, :fingerprint)');
    }
    // Ids are ULIDs: "opened since" is a key range, not a filter.
    let keyCondition = 'pk = :pk';
    if (filter.since !== undefined) {
      values[':since'] = timeOrderedId(filter.since, new Uint8Array(10));
      keyCondition += ' AND sk >= :since';
    }
    const incidents: Incident[] = [];
    let startKey: Record<string, unknown> | undefined =
      filter.cursor === undefined ? undefined : { pk: INCIDENTS_PK, sk: filter.cursor };
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const output = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: keyCondition,
          ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: Math.max(filter.limit, 25),
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of output.Items ?? []) {
        incidents.push(unpack<Incident>(item.body));
        if (incidents.length === filter.limit) {
          // Exactly full: continue after this item, unless it was the partition's last.
          const more = output.LastEvaluatedKey !== undefined || item !== output.Items?.at(-1);
          return { incidents, ...(more ? { nextCursor: item.sk as string } : {}) };
        }
      }
      startKey = output.LastEvaluatedKey;
      if (!startKey) return { incidents };
    }
    return { incidents, nextCursor: startKey?.sk as string };
  }
}

export class DynamoAlertsView implements AlertsView {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(alert: AlertRecord): Promise<void> {
    await putUnlessStale(this.client, {
      TableName: this.tableName,
      Item: {
        pk: ALERTS_PK,
        sk: alert.fingerprint,
        ...alert,
        ...(alert.status === 'resolved'
          ? { expiresAt: Math.ceil(alert.at / 1000) + RESOLVED_ALERT_RETENTION_SECONDS }
          : {}),
      },
      ConditionExpression: 'attribute_not_exists(pk) OR #at <= :at',
      ExpressionAttributeNames: { '#at': 'at' },
      ExpressionAttributeValues: { ':at': alert.at },
    });
  }

  async list(): Promise<AlertRecord[]> {
    const items = await readPartition(this.client, this.tableName, ALERTS_PK);
    return items.map((item) => {
      const { pk: _pk, sk: _sk, expiresAt: _ttl, ...record } = item;
      return record as unknown as AlertRecord;
    });
  }
}

export class DynamoRoutingStore implements RoutingStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(): Promise<{ config: RoutingConfig; updatedAt: string } | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: CONFIG_PK, sk: ROUTING_SK } }),
    );
    if (!Item) return undefined;
    return {
      config: JSON.parse(Item.config as string) as RoutingConfig,
      updatedAt: Item.updatedAt as string,
    };
  }

  async put(config: RoutingConfig, updatedAt: string): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: CONFIG_PK, sk: ROUTING_SK, config: JSON.stringify(config), updatedAt },
      }),
    );
  }

  async delete(): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: CONFIG_PK, sk: ROUTING_SK } }),
    );
  }
}

const POSTED_PK = 'POSTED';
/** A posted alert is remembered a day past its end, so a late re-send is still recognised. */
const POSTED_RETENTION_SECONDS = DAY_SECONDS;

/** Alerts posted to the Alertmanager API: pk = POSTED, sk = fingerprint. */
export class DynamoPostedAlertStore implements PostedAlertStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getMany(fingerprints: readonly string[]): Promise<Map<string, PostedAlert>> {
    const items = await batchGetAll(
      this.client,
      this.tableName,
      fingerprints.map((sk) => ({ pk: POSTED_PK, sk })),
    );
    return new Map(items.map((item) => [item.sk as string, postedOf(item)]));
  }

  async list(): Promise<PostedAlert[]> {
    return (await readPartition(this.client, this.tableName, POSTED_PK)).map(postedOf);
  }

  async put(alert: PostedAlert): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: POSTED_PK,
          sk: alert.fingerprint,
          alert: JSON.stringify(alert),
          expiresAt: Math.ceil(alert.endsAt / 1000) + POSTED_RETENTION_SECONDS,
        },
      }),
    );
  }
}

const postedOf = (item: Record<string, unknown>) => JSON.parse(item.alert as string) as PostedAlert;
