import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { documentClient } from '../shared/adapters/clients';
import { DynamoConnectionRegistry } from '../shared/adapters/dynamo-connection-registry';
import { SYSTEM_METRICS_CHANNEL } from '../shared/domain/messages';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { eventHandler } from '../shared/handler-kit';

const env = readEnv([ENV.connectionsTable]);
const registry = new DynamoConnectionRegistry(documentClient(), env.CONNECTIONS_TABLE);

/**
 * $connect: registers the connection, subscribed to `system_metrics` by default. An authorizer,
 * when added, runs before this and its context arrives in `requestContext.authorizer`.
 */
export const handler = eventHandler<
  APIGatewayProxyWebsocketEventV2 & { requestContext: { connectedAt?: number } },
  APIGatewayProxyResultV2
>(async (event) => {
  const { connectionId, connectedAt } = event.requestContext;
  await registry.register(connectionId, connectedAt ?? Date.now(), [SYSTEM_METRICS_CHANNEL]);
  return { statusCode: 200 };
});
