import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { documentClient } from '../shared/adapters/clients';
import { DynamoConnectionRegistry } from '../shared/adapters/dynamo-connection-registry';
import { envelope } from '../shared/domain/messages';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { eventHandler } from '../shared/handler-kit';
import { logger } from '../shared/logger';
import { applySubscription, clientError } from './subscriptions';

const env = readEnv([ENV.connectionsTable]);
const registry = new DynamoConnectionRegistry(documentClient(), env.CONNECTIONS_TABLE);

const reply = (statusCode: number, body: unknown): APIGatewayProxyResultV2 => ({
  statusCode,
  body: JSON.stringify(body),
});

/**
 * The `subscribe`, `unsubscribe`, `ping` and `$default` routes. The routes return their response
 * to the client (route responses), so every message gets an acknowledgement or an error envelope.
 * `ping` is the dashboard's keepalive against API Gateway's 10-minute idle timeout: it touches no
 * table.
 */
export const handler = eventHandler<APIGatewayProxyWebsocketEventV2, APIGatewayProxyResultV2>(
  async (event) => {
    const { connectionId, routeKey } = event.requestContext;
    if (routeKey === 'ping') return reply(200, envelope('pong', {}));
    if (routeKey === '$default') {
      return reply(
        400,
        envelope('error', {
          code: 'UNKNOWN_ACTION',
          message: 'Send {"action":"subscribe"|"unsubscribe","channels":[…]} or {"action":"ping"}',
        }),
      );
    }
    try {
      return reply(200, await applySubscription(connectionId, event.body, registry));
    } catch (error) {
      const message = clientError(error);
      if (message) return reply(400, message);
      logger.error('Subscription update failed', { error: error as Error });
      return reply(500, envelope('error', { code: 'INTERNAL', message: 'Internal error' }));
    }
  },
);
