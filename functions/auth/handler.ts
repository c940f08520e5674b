import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { documentClient } from '../shared/adapters/clients';
import {
  DynamoApiKeyStore,
  DynamoThrottleStore,
  DynamoUserStore,
} from '../shared/adapters/dynamo-auth-store';
import { SecretsKeySource } from '../shared/adapters/secrets-key-source';
import { principalOf } from '../shared/auth-context';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { TooManyAttemptsError } from '../shared/errors';
import { httpRoute } from '../shared/handler-kit';
import { json, parseJsonBody } from '../shared/http';
import { bootstrapAdmin, bootstrapApiKey, login, me, publicKeys } from './auth-api';

const env = readEnv([ENV.authTable, ENV.signingSecretArn, ENV.tokenIssuer]);
const client = documentClient();
const users = new DynamoUserStore(client, env.AUTH_TABLE);
const apiKeys = new DynamoApiKeyStore(client, env.AUTH_TABLE);
const keys = new SecretsKeySource(new SecretsManagerClient({}), env.SIGNING_SECRET_ARN);
const deps = {
  users,
  throttle: new DynamoThrottleStore(client, env.AUTH_TABLE),
  keys,
  issuer: env.TOKEN_ISSUER,
  clock: Date.now,
};

const http = httpRoute(async (event) => {
  switch (event.routeKey) {
    case 'POST /auth/login':
      try {
        return json(200, await login(parseJsonBody(event), event.requestContext.http.sourceIp, deps));
      } catch (error) {
        if (!(error instanceof TooManyAttemptsError)) throw error;
        const response = json(429, { error: { code: error.code, message: error.message } });
        return {
          ...response,
          headers: { ...response.headers, 'retry-after': String(error.retryAfterSeconds) },
        };
      }
    case 'GET /auth/me':
      return json(200, me(principalOf(event.requestContext)));
    case 'GET /.well-known/jwks.json': {
      const response = json(200, await publicKeys(keys));
      return { ...response, headers: { ...response.headers, 'cache-control': 'public, max-age=300' } };
    }
    default:
      return json(200, { status: 'ok' });
  }
});

type Bootstrap = { bootstrapAdmin: unknown } | { bootstrapApiKey: unknown };

/**
 * POST /auth/login, GET /auth/me, GET /.well-known/jwks.json and GET /health; and, by direct
 * invocation only (never reachable through the API), `{"bootstrapAdmin": {username, password}}`
 * for the first admin and `{"bootstrapApiKey": {name}}` for an agent's ingest key.
 */
export const handler = async (event: APIGatewayProxyEventV2 | Bootstrap, context: never) => {
  if ('bootstrapAdmin' in event) return bootstrapAdmin(event.bootstrapAdmin, users, Date.now);
  if ('bootstrapApiKey' in event) return bootstrapApiKey(event.bootstrapApiKey, apiKeys, Date.now);
  return http(event, context);
};
