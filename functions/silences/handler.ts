import { randomUUID } from 'node:crypto';
import { documentClient } from '../shared/adapters/clients';
import { DynamoSilenceStore } from '../shared/adapters/dynamo-alerting-store';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { httpRoute } from '../shared/handler-kit';
import { json, parseJsonBody } from '../shared/http';
import { createSilence, expire, getSilence, listSilences } from './silences-api';

const env = readEnv([ENV.alertingTable]);
const store = new DynamoSilenceStore(documentClient(), env.ALERTING_TABLE);

/** /api/silences (GET list, POST create) and /api/silences/{id} (GET, DELETE = expire). */
export const handler = httpRoute(async (event) => {
  const id = event.pathParameters?.id;
  const method = event.requestContext.http.method;
  if (id === undefined) {
    if (method === 'POST')
      return json(201, await createSilence(parseJsonBody(event), store, Date.now, randomUUID));
    return json(200, { silences: await listSilences(store, Date.now, event.queryStringParameters?.state) });
  }
  if (method === 'DELETE') return json(200, await expire(id, store, Date.now));
  return json(200, await getSilence(id, store, Date.now));
});
