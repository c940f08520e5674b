import { documentClient } from '../shared/adapters/clients';
import { DynamoRuleStore } from '../shared/adapters/dynamo-alerting-store';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { httpRoute } from '../shared/handler-kit';
import { json, parseJsonBody } from '../shared/http';
import { createRule, deleteRule, getRule, putRule } from './rules-api';

const env = readEnv([ENV.alertingTable]);
const store = new DynamoRuleStore(documentClient(), env.ALERTING_TABLE);

/** /api/alert-rules (GET list, POST create) and /api/alert-rules/{name} (GET, PUT, DELETE). */
export const handler = httpRoute(async (event) => {
  const name = event.pathParameters?.name;
  const method = event.requestContext.http.method;
  if (name === undefined) {
    if (method === 'POST') return json(201, await createRule(parseJsonBody(event), store, Date.now));
    return json(200, { rules: await store.list() });
  }
  if (method === 'PUT') {
    const { rule, created } = await putRule(name, parseJsonBody(event), store, Date.now);
    return json(created ? 201 : 200, rule);
  }
  if (method === 'DELETE') {
    await deleteRule(name, store);
    return { statusCode: 204 };
  }
  return json(200, await getRule(name, store));
});
