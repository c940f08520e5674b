import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { documentClient } from '../shared/adapters/clients';
import { DynamoApiKeyStore } from '../shared/adapters/dynamo-auth-store';
import { SecretsKeySource } from '../shared/adapters/secrets-key-source';
import { principalContext } from '../shared/auth-context';
import { allows, WEBSOCKET_ACCESS } from '../shared/domain/auth/roles';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { eventHandler } from '../shared/handler-kit';
import { logger } from '../shared/logger';
import { authenticate, websocketCredential } from './authorize';

const env = readEnv([ENV.authTable, ENV.signingSecretArn, ENV.tokenIssuer]);
const deps = {
  keys: new SecretsKeySource(new SecretsManagerClient({}), env.SIGNING_SECRET_ARN),
  apiKeys: new DynamoApiKeyStore(documentClient(), env.AUTH_TABLE),
  issuer: env.TOKEN_ISSUER,
  clock: Date.now,
};

type HttpResult = APIGatewaySimpleAuthorizerWithContextResult<Record<string, string>>;

/**
 * Failing with exactly this message is how a Lambda authorizer makes API Gateway answer 401 (a
 * refusal, `isAuthorized: false` or Deny, is a 403). Every bad credential (missing, malformed,
 * forged, expired, revoked) gets the same 401; 403 is kept for a known caller without the right.
 */
const UNAUTHORIZED = 'Unauthorized';

/**
 * One authorizer for both APIs. HTTP API (payload 2.0, simple responses, cached by the
 * Authorization header): authenticates only; which role each route needs is checked in the
 * integration (handler-kit's access check), because a cached answer serves every route.
 * WebSocket `$connect` (REQUEST, IAM policy): any signed-in person may connect; an API key may not.
 */
export const handler = eventHandler(
  async (
    event: APIGatewayRequestAuthorizerEventV2 | APIGatewayRequestAuthorizerEvent,
  ): Promise<HttpResult | APIGatewayAuthorizerResult> => {
    if ('methodArn' in event) {
      const credential = websocketCredential(event.headers, event.queryStringParameters);
      const principal = await authenticate(credential, deps);
      if (!principal) throw new Error(UNAUTHORIZED);
      const allowed = allows(principal, WEBSOCKET_ACCESS);
      logger.info('WebSocket authorization', { allowed, subject: principal.subject });
      return {
        principalId: principal.subject,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Action: 'execute-api:Invoke', Effect: allowed ? 'Allow' : 'Deny', Resource: event.methodArn },
          ],
        },
        ...(allowed ? { context: principalContext(principal) } : {}),
      };
    }
    const principal = await authenticate(event.identitySource?.[0], deps);
    if (!principal) {
      logger.info('HTTP request refused: no valid credential', { routeKey: event.routeKey });
      throw new Error(UNAUTHORIZED);
    }
    return { isAuthorized: true, context: principalContext(principal) };
  },
);
