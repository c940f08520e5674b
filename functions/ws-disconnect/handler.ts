import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { documentClient } from '../shared/adapters/clients';
import { DynamoConnectionRegistry } from '../shared/adapters/dynamo-connection-registry';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { eventHandler } from '../shared/handler-kit';

const env = readEnv([ENV.connectionsTable]);
const registry = new DynamoConnectionRegistry(documentClient(), env.CONNECTIONS_TABLE);

/**
 * $disconnect: forgets the connection. API Gateway delivers this best effort, so broadcasts also
 * forget connections that answer 410, and TTL removes whatever both miss.
 */
export const handler = eventHandler<APIGatewayProxyWebsocketEventV2, APIGatewayProxyResultV2>(
  async (event) => {
    await registry.forget(event.requestContext.connectionId);
    return { statusCode: 200 };
  },
);
