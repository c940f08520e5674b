import { correlatorFromEnv } from '../shared/adapters/alerting-wiring';
import { documentClient } from '../shared/adapters/clients';
import { DynamoIncidentStore } from '../shared/adapters/dynamo-correlation-store';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { httpRoute } from '../shared/handler-kit';
import { bodyText, json, parseJsonBody } from '../shared/http';
import { actOnIncident, getIncident, listIncidents } from './incidents-api';

const env = readEnv([ENV.alertingTable]);
const client = documentClient();
const store = new DynamoIncidentStore(client, env.ALERTING_TABLE);
const correlator = correlatorFromEnv(client);

/** GET /api/incidents, GET /api/incidents/{id}, POST /api/incidents/{id}/ack and /resolve. */
export const handler = httpRoute(async (event) => {
  const id = event.pathParameters?.id;
  if (id === undefined) return json(200, await listIncidents(event.queryStringParameters ?? {}, store));
  if (event.requestContext.http.method === 'GET') return json(200, await getIncident(id, store));
  const action = event.rawPath.endsWith('/ack') ? 'ack' : 'resolve';
  const body = bodyText(event).trim() === '' ? undefined : parseJsonBody(event);
  return json(200, await actOnIncident(id, action, body, correlator));
});
