import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Optimistic concurrency for items carrying a version counter (`field`) and an outbox of work
 * written with the state: the evaluation states and the correlator's groups.
 */

/**
 * Puts the item when its `field` still holds `expected` (`undefined`: no item yet). Answers
 * `false` when another writer got there first, so the caller re-reads and tries again.
 */
export async function putIfUnchanged(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  field: string,
  expected: number | undefined,
): Promise<boolean> {
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ...(expected === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': field },
              ExpressionAttributeValues: { ':expected': expected },
            }),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Empties the item's outbox unless its `field` moved past `value`: a newer write carried the
 * outbox forward, and its writer performs and clears it.
 */
export async function clearOutbox(
  client: DynamoDBDocumentClient,
  tableName: string,
  key: Record<string, unknown>,
  field: string,
  value: number,
): Promise<void> {
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'REMOVE outbox',
        ConditionExpression: '#version = :version',
        ExpressionAttributeNames: { '#version': field },
        ExpressionAttributeValues: { ':version': value },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}
