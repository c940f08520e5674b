import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { documentClient } from '../shared/adapters/clients';
import { DynamoConnectionRegistry } from '../shared/adapters/dynamo-connection-registry';
import { WEBSOCKET_SUBPROTOCOL } from '../shared/domain/auth/roles';
import { SYSTEM_METRICS_CHANNEL } from '../shared/domain/messages';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { eventHandler } from '../shared/handler-kit';

const env = readEnv([ENV.connectionsTable]);
const registry = new DynamoConnectionRegistry(documentClient(), env.CONNECTIONS_TABLE);

/**
 * $connect: registers the connection, subscribed to `system_metrics` by default. The authorizer
 * has already admitted the caller. A browser that sent its token as a subprotocol
 * (`new WebSocket(url, ['pulseboard', token])`) only accepts the connection if one of its
 * subprotocols is echoed back, so `pulseboard` is (never the token).
 */
export const handler = eventHandler<
  APIGatewayProxyWebsocketEventV2 & {
    requestContext: { connectedAt?: number };
    headers?: Record<string, string | undefined>;
  },
  APIGatewayProxyResultV2
>(async (event) => {
  const { connectionId, connectedAt } = event.requestContext;
  await registry.register(connectionId, connectedAt ?? Date.now(), [SYSTEM_METRICS_CHANNEL]);
  const offered = Object.entries(event.headers ?? {})
    .find(([name]) => name.toLowerCase() === 'sec-websocket-protocol')?.[1]
    ?.split(',')
    .map((protocol) => protocol.trim());
  return offered?.includes(WEBSOCKET_SUBPROTOCOL)
    ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': WEBSOCKET_SUBPROTOCOL } }
    : { statusCode: 200 };
});
