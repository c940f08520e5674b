import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { forEachBounded } from '../concurrency';
import { DependencyError } from '../errors';

type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

const BATCH_LIMIT = 25;
const MAX_ATTEMPTS = 6;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes any number of put/delete requests to one table in batches of 25, retrying unprocessed
 * items with exponential backoff and jitter as DynamoDB asks. Fails loudly rather than dropping
 * an item that was accepted from a client.
 */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
): Promise<void> {
  for (let start = 0; start < requests.length; start += BATCH_LIMIT) {
    let pending: WriteRequest[] = requests.slice(start, start + BATCH_LIMIT);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS) {
        throw new DependencyError(
          `DynamoDB left ${pending.length} item(s) unprocessed after ${MAX_ATTEMPTS} attempts`,
        );
      }
      if (attempt > 1) await pause(Math.random() * 25 * 2 ** attempt);
      const output = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (output.UnprocessedItems?.[tableName] as WriteRequest[] | undefined) ?? [];
    }
  }
}

const GET_LIMIT = 100;

/**
 * Reads any number of items of one table by key, 100 keys per request (up to `concurrency`
 * requests at once), retrying unprocessed keys with backoff. Strongly consistent: callers read
 * what they are about to write conditionally. Items come back in no particular order.
 */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
  concurrency = 4,
): Promise<Record<string, unknown>[]> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < keys.length; i += GET_LIMIT) chunks.push(keys.slice(i, i + GET_LIMIT));
  const found: Record<string, unknown>[] = [];
  await forEachBounded(chunks, concurrency, async (chunk) => {
    let pending = chunk;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS) {
        throw new DependencyError(`DynamoDB left reads unprocessed after ${MAX_ATTEMPTS} attempts`);
      }
      if (attempt > 1) await pause(Math.random() * 25 * 2 ** attempt);
      const output = await client.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      found.push(...(output.Responses?.[tableName] ?? []));
      pending = (output.UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
  });
  return found;
}
