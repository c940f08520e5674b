import { evaluationFromEnv, routingFromEnv } from '../shared/adapters/alerting-wiring';
import { documentClient } from '../shared/adapters/clients';
import { DynamoAlertsView } from '../shared/adapters/dynamo-correlation-store';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { httpRoute } from '../shared/handler-kit';
import { bodyText, json, parseJsonBody } from '../shared/http';
import { listAlerts, triggerTestAlert } from './alerts-api';

const env = readEnv([ENV.alertingTable]);
const client = documentClient();
const evaluation = evaluationFromEnv(client);
const routing = routingFromEnv(client);
const view = new DynamoAlertsView(client, env.ALERTING_TABLE);

/** GET /api/alerts and POST /api/alerts/test-trigger. */
export const handler = httpRoute(async (event) => {
  if (event.requestContext.http.method === 'POST') {
    const body = bodyText(event).trim() === '' ? undefined : parseJsonBody(event);
    return json(200, await triggerTestAlert(body, { ...evaluation, routing }));
  }
  return json(200, await listAlerts(event.queryStringParameters ?? {}, view));
});
