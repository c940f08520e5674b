import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
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
