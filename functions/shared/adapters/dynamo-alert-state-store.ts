import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlertTransition, SeriesAlertState } from '../domain/alerting/evaluation';
import type { AlertStateStore, StoredAlertState } from '../domain/alerting/stores';
import { readPartition } from './dynamo-alerting-store';
import { batchGetAll } from './dynamo-batch';
import { clearOutbox, putIfUnchanged } from './dynamo-versioned';

/**
 * Evaluation state in the alerting table, one partition per rule:
 *   pk = STATE#<rule>, sk = <series labels, canonical> | ~selector
 *   version (number, the write condition), state (JSON), outbox (JSON, absent when empty)
 * A rule's partition is read whole by the schedule, so it holds one small item per series.
 */
export class DynamoAlertStateStore implements AlertStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getMany(rule: string, keys: readonly string[]): Promise<Map<string, StoredAlertState>> {
    const items = await batchGetAll(
      this.client,
      this.tableName,
      keys.map((sk) => ({ pk: partition(rule), sk })),
    );
    return new Map(items.map((item) => [item.sk as string, fromItem(item)]));
  }

  async list(rule: string): Promise<(StoredAlertState & { key: string })[]> {
    const items = await readPartition(this.client, this.tableName, partition(rule));
    return items.map((item) => ({ key: item.sk as string, ...fromItem(item) }));
  }

  put(key: string, next: StoredAlertState, expectedVersion: number | undefined): Promise<boolean> {
    const item = {
      pk: partition(next.state.rule),
      sk: key,
      version: next.state.version,
      state: JSON.stringify(next.state),
      ...(next.outbox.length > 0 ? { outbox: JSON.stringify(next.outbox) } : {}),
    };
    return putIfUnchanged(this.client, this.tableName, item, 'version', expectedVersion);
  }

  clearOutbox(rule: string, key: string, version: number): Promise<void> {
    return clearOutbox(this.client, this.tableName, { pk: partition(rule), sk: key }, 'version', version);
  }

  async delete(rule: string, key: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: partition(rule), sk: key } }),
    );
  }
}

const partition = (rule: string) => `STATE#${rule}`;

function fromItem(item: Record<string, unknown>): StoredAlertState {
  return {
    state: JSON.parse(item.state as string) as SeriesAlertState,
    outbox: typeof item.outbox === 'string' ? (JSON.parse(item.outbox) as AlertTransition[]) : [],
  };
}
