import { ApiGatewayMessenger } from '../shared/adapters/apigw-messenger';
import { documentClient, dynamoClient, managementApiClient } from '../shared/adapters/clients';
import { DynamoConnectionRegistry } from '../shared/adapters/dynamo-connection-registry';
import { DynamoMetricsStore } from '../shared/adapters/dynamo-metrics-store';
import { idempotentByHeader } from '../shared/adapters/idempotency';
import { broadcast } from '../shared/broadcast';
import { readEnv, readPositiveInt } from '../shared/env';
import { ENV } from '../shared/env-names';
import { PulseboardError } from '../shared/errors';
import { httpRoute } from '../shared/handler-kit';
import { json, parseJsonBody } from '../shared/http';
import { logger } from '../shared/logger';
import { ingestBatch } from './ingest';

const env = readEnv([ENV.metricsTable, ENV.connectionsTable, ENV.websocketCallbackUrl, ENV.idempotencyTable]);
const SEVEN_DAYS = 7 * 24 * 60 * 60;
const dynamo = dynamoClient();
const client = documentClient(dynamo);
const store = new DynamoMetricsStore(
  client,
  env.METRICS_TABLE,
  readPositiveInt(ENV.pointRetentionSeconds, SEVEN_DAYS),
);
const registry = new DynamoConnectionRegistry(client, env.CONNECTIONS_TABLE);
const messenger = new ApiGatewayMessenger(managementApiClient(env.WEBSOCKET_CALLBACK_URL));

/** POST /api/metrics: a native JSON batch in, `202 {"accepted": n}` out. */
export const handler = httpRoute(
  async (event) => {
    const contentType = event.headers['content-type'] ?? 'application/json';
    if (!/^application\/json\b/i.test(contentType)) {
      throw new PulseboardError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Type ${contentType} is not supported; send application/json`,
      );
    }
    const result = await ingestBatch(parseJsonBody(event), {
      store,
      clock: Date.now,
      publish: async (channel, message) => {
        const outcome = await broadcast(channel, message, {
          registry,
          messenger,
          onError: (connectionId, error) =>
            logger.warn('Broadcast to a connection failed', { connectionId, error: error as Error }),
        });
        logger.debug('Broadcast done', { channel, ...outcome });
      },
      onPublishError: (error) =>
        logger.error('Broadcast failed; points are stored', { error: error as Error }),
    });
    return json(202, result);
  },
  idempotentByHeader(env.IDEMPOTENCY_TABLE, dynamo),
);
