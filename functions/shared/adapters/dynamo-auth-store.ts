import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord, ApiKeyStore, ThrottleStore, User, UserStore } from '../domain/auth/stores';
import type { FailureRecord } from '../domain/auth/throttle';
import { readPartition } from './dynamo-alerting-store';

/**
 * The auth table:
 *   pk = USER,     sk = <username>   a user and their password hash
 *   pk = APIKEY,   sk = <key id>     an API key's hash, scope and revocation
 *   pk = THROTTLE, sk = <subject>    failed logins; TTL a day after the last failure
 */
const USERS = 'USER';
const KEYS = 'APIKEY';
const THROTTLE = 'THROTTLE';
const THROTTLE_TTL_SECONDS = 24 * 60 * 60;

const strip = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, expiresAt: _ttl, ...rest } = item;
  return rest as T;
};

export class DynamoUserStore implements UserStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(username: string): Promise<User | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: USERS, sk: username }, ConsistentRead: true }),
    );
    return Item ? strip<User>(Item) : undefined;
  }

  async list(): Promise<User[]> {
    return (await readPartition(this.client, this.tableName, USERS)).map((item) => strip<User>(item));
  }

  async put(user: User, options?: { ifAbsent?: boolean }): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: USERS, sk: user.username, ...user },
          ConditionExpression: options?.ifAbsent ? 'attribute_not_exists(pk)' : undefined,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async delete(username: string): Promise<boolean> {
    const { Attributes } = await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: USERS, sk: username },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }
}

export class DynamoApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: KEYS, sk: id } }),
    );
    return Item ? strip<ApiKeyRecord>(Item) : undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return (await readPartition(this.client, this.tableName, KEYS)).map((item) => strip<ApiKeyRecord>(item));
  }

  async put(record: ApiKeyRecord): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: KEYS, sk: record.id, ...record } }),
    );
  }
}

export class DynamoThrottleStore implements ThrottleStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(subject: string): Promise<FailureRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: THROTTLE, sk: subject }, ConsistentRead: true }),
    );
    return Item ? strip<FailureRecord>(Item) : undefined;
  }

  async put(subject: string, record: FailureRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: THROTTLE,
          sk: subject,
          ...record,
          expiresAt: Math.ceil(record.lastFailureAt / 1000) + THROTTLE_TTL_SECONDS,
        },
      }),
    );
  }

  async clear(subject: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: THROTTLE, sk: subject } }),
    );
  }
}
