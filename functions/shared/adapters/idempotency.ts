import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { PulseboardError } from '../errors';

/** The request header a client sets to make retries of one request count once. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** How long a key is remembered: longer than any agent keeps retrying one batch. */
const KEY_LIFETIME_SECONDS = 24 * 60 * 60;

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * Makes an HTTP route idempotent per `Idempotency-Key` header (Powertools idempotency on DynamoDB):
 * a retry with the same key and body gets the first answer back without running the route again.
 * Requests without the header run normally. A failure releases the key, so the client can retry.
 */
export function idempotentByHeader(tableName: string, client: DynamoDBClient): HttpMiddleware {
  const inner = makeHandlerIdempotent({
    persistenceStore: new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client }),
    config: new IdempotencyConfig({
      eventKeyJmesPath: `headers."${IDEMPOTENCY_HEADER}"`,
      payloadValidationJmesPath: 'body',
      throwOnNoIdempotencyKey: false,
      expiresAfterSeconds: KEY_LIFETIME_SECONDS,
    }),
  }) as HttpMiddleware;
  return {
    ...inner,
    before: async (request) => {
      try {
        return await inner.before?.(request);
      } catch (error) {
        throw translate(error);
      }
    },
  };
}

function translate(error: unknown): unknown {
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new PulseboardError(
      'IDEMPOTENCY_IN_PROGRESS',
      'A request with this Idempotency-Key is still being processed; retry shortly',
      {
        cause: error,
      },
    );
  }
  if (error instanceof IdempotencyValidationError) {
    return new PulseboardError(
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was already used with a different request body',
      {
        cause: error,
      },
    );
  }
  return error;
}
