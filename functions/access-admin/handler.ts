import { documentClient } from '../shared/adapters/clients';
import { DynamoApiKeyStore, DynamoUserStore } from '../shared/adapters/dynamo-auth-store';
import { principalOf } from '../shared/auth-context';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { UnauthorizedError } from '../shared/errors';
import { httpRoute } from '../shared/handler-kit';
import { json, parseJsonBody } from '../shared/http';
import { changeUser, createKey, createUser, deleteUser, keyView, revokeKey, userView } from './access-api';

const env = readEnv([ENV.authTable]);
const client = documentClient();
const users = new DynamoUserStore(client, env.AUTH_TABLE);
const keys = new DynamoApiKeyStore(client, env.AUTH_TABLE);

/** /api/users and /api/api-keys (admins only, enforced by the route table). */
export const handler = httpRoute(async (event) => {
  const actor = principalOf(event.requestContext);
  if (!actor) throw new UnauthorizedError();
  const { username, id } = event.pathParameters ?? {};
  switch (event.routeKey) {
    case 'GET /api/users':
      return json(200, { users: (await users.list()).map(userView) });
    case 'POST /api/users':
      return json(201, await createUser(parseJsonBody(event), users, Date.now));
    case 'PUT /api/users/{username}':
      return json(200, await changeUser(username as string, parseJsonBody(event), actor, users, Date.now));
    case 'DELETE /api/users/{username}':
      await deleteUser(username as string, actor, users);
      return { statusCode: 204 };
    case 'GET /api/api-keys':
      return json(200, { keys: (await keys.list()).map(keyView) });
    case 'POST /api/api-keys':
      return json(201, await createKey(parseJsonBody(event), actor, keys, Date.now));
    default:
      await revokeKey(id as string, keys, Date.now);
      return { statusCode: 204 };
  }
});
