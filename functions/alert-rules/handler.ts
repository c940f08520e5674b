import { defaultRoutingFromEnv, evaluationFromEnv } from '../shared/adapters/alerting-wiring';
import { documentClient } from '../shared/adapters/clients';
import { DynamoRuleStore } from '../shared/adapters/dynamo-alerting-store';
import { DynamoRoutingStore } from '../shared/adapters/dynamo-correlation-store';
import { retireRule } from '../shared/alerting/evaluation-service';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { httpRoute } from '../shared/handler-kit';
import { json, parseJsonBody } from '../shared/http';
import { logger } from '../shared/logger';
import { createRule, deleteRule, getRouting, getRule, putRouting, putRule } from './rules-api';

const env = readEnv([ENV.alertingTable]);
const client = documentClient();
const store = new DynamoRuleStore(client, env.ALERTING_TABLE);
const routing = new DynamoRoutingStore(client, env.ALERTING_TABLE);
const stageRouting = defaultRoutingFromEnv();
const evaluation = evaluationFromEnv(client);

/**
 * /api/alert-rules (GET list, POST create), /api/alert-rules/{name} (GET, PUT, DELETE), and
 * /api/alert-routing (GET, PUT, DELETE: back to the stage default).
 */
export const handler = httpRoute(async (event) => {
  const method = event.requestContext.http.method;
  if (event.rawPath.endsWith('/alert-routing')) {
    if (method === 'PUT') return json(200, await putRouting(parseJsonBody(event), routing, Date.now));
    if (method === 'DELETE') {
      await routing.delete();
      return { statusCode: 204 };
    }
    return json(200, await getRouting(routing, stageRouting));
  }
  const name = event.pathParameters?.name;
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
    // The rule is gone; what it had firing resolves now rather than never.
    const retired = await retireRule(name, evaluation).catch((error: unknown) => {
      logger.error("Resolving a deleted rule's alerts failed", { rule: name, error: error as Error });
      return undefined;
    });
    if (retired) logger.info('Rule deleted', { rule: name, resolved: retired.transitions.length });
    return { statusCode: 204 };
  }
  return json(200, await getRule(name, store));
});
