import { randomUUID } from 'node:crypto';
import { documentClient } from '../shared/adapters/clients';
import { DynamoSilenceStore } from '../shared/adapters/dynamo-alerting-store';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { httpRoute } from '../shared/handler-kit';
import { json, parseJsonBody } from '../shared/http';
import { createSilence, expire, getSilence, listSilences, listSilencesV2 } from './silences-api';

const env = readEnv([ENV.alertingTable]);
const store = new DynamoSilenceStore(documentClient(), env.ALERTING_TABLE);

/**
 * /api/silences (GET list, POST create) and /api/silences/{id} (GET, DELETE = expire); and the
 * same silences in Alertmanager's API v2 shapes: /api/v2/silences (GET: a bare array, `filter`ed
 * and sorted as Alertmanager does; POST: `{silenceID}`, with `id` to update) and
 * /api/v2/silence/{id} (GET, DELETE: an empty 200).
 */
export const handler = httpRoute(async (event) => {
  const id = event.pathParameters?.id;
  const method = event.requestContext.http.method;
  const v2 = event.rawPath.startsWith('/api/v2/');
  if (id === undefined) {
    if (method === 'POST') {
      const silence = await createSilence(parseJsonBody(event), store, Date.now, randomUUID);
      return v2 ? json(200, { silenceID: silence.id }) : json(201, silence);
    }
    if (v2) return json(200, await listSilencesV2(event.rawQueryString, store, Date.now));
    return json(200, { silences: await listSilences(store, Date.now, event.queryStringParameters?.state) });
  }
  if (method === 'DELETE') {
    const expired = await expire(id, store, Date.now);
    return v2 ? { statusCode: 200 } : json(200, expired);
  }
  return json(200, await getSilence(id, store, Date.now));
});
