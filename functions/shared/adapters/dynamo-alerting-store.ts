import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Silence } from '../domain/alerting/dispatch/silence';
import type { RuleStore, SilenceStore, StoredRule } from '../domain/alerting/stores';

/**
 * The alerting table (one table, keyed like the others):
 *   pk = RULE,    sk = <rule name>   the rule's definition as sent (a JSON string, kept verbatim)
 *   pk = SILENCE, sk = <id>          a silence; TTL `expiresAt` = its end + 5 days
 * Both partitions are small (hundreds of rules, thousands of silences) and read whole.
 */
const RULES_PK = 'RULE';
const SILENCES_PK = 'SILENCE';
/** Expired silences stay listed this long, as Alertmanager's default retention. */
const SILENCE_RETENTION_SECONDS = 5 * 24 * 60 * 60;

/** Alert rules in the alerting table. */
export class DynamoRuleStore implements RuleStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(): Promise<StoredRule[]> {
    return (await readPartition(this.client, this.tableName, RULES_PK)).map(toRule);
  }

  async get(name: string): Promise<StoredRule | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: RULES_PK, sk: name } }),
    );
    return Item ? toRule(Item) : undefined;
  }

  async put(rule: StoredRule, options?: { ifAbsent?: boolean }): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: RULES_PK,
            sk: rule.name,
            definition: JSON.stringify(rule.definition),
            updatedAt: rule.updatedAt,
          },
          ConditionExpression: options?.ifAbsent ? 'attribute_not_exists(pk)' : undefined,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async delete(name: string): Promise<boolean> {
    const { Attributes } = await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: RULES_PK, sk: name },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }
}

/** Silences in the alerting table. */
export class DynamoSilenceStore implements SilenceStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(): Promise<Silence[]> {
    return (await readPartition(this.client, this.tableName, SILENCES_PK)).map(toSilence);
  }

  async get(id: string): Promise<Silence | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: SILENCES_PK, sk: id } }),
    );
    return Item ? toSilence(Item) : undefined;
  }

  async put(silence: Silence): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: SILENCES_PK,
          sk: silence.id,
          ...silence,
          expiresAt: Math.floor(silence.endsAt / 1000) + SILENCE_RETENTION_SECONDS,
        },
      }),
    );
  }
}

/** Every item of one partition, page by page. */
export async function readPartition(
  client: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

function toRule(item: Record<string, unknown>): StoredRule {
  return {
    name: item.sk as string,
    definition: JSON.parse(item.definition as string),
    updatedAt: item.updatedAt as string,
  };
}

function toSilence(item: Record<string, unknown>): Silence {
  const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...silence } = item;
  return silence as unknown as Silence;
}
