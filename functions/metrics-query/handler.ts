import { documentClient } from '../shared/adapters/clients';
import { DynamoMetricsStore, retentionFromEnv } from '../shared/adapters/dynamo-metrics-store';
import { labelValues, parseLabelValuesRequest, parseQuery, runQuery } from '../shared/domain/query';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { NotFoundError } from '../shared/errors';
import { httpRoute } from '../shared/handler-kit';
import { json } from '../shared/http';

const env = readEnv([ENV.metricsTable]);
const retention = retentionFromEnv();
const store = new DynamoMetricsStore(documentClient(), env.METRICS_TABLE, { retention });

const LABEL_VALUES = /^\/api\/metrics\/labels\/([^/]+)\/values$/;

/**
 * GET /api/metrics/query, GET /api/metrics/names and GET /api/metrics/labels/{label}/values:
 * the dashboard's series queries and its pickers.
 */
export const handler = httpRoute(async (event) => {
  const params = event.queryStringParameters ?? {};
  const path = event.rawPath ?? '';
  const now = Date.now();
  if (path === '/api/metrics/query')
    return json(200, await runQuery(parseQuery(params, now), store, now, retention));
  if (path === '/api/metrics/names') return json(200, { names: (await store.listNames()).sort() });
  const labelPath = LABEL_VALUES.exec(path);
  if (labelPath) {
    const label = event.pathParameters?.label ?? decodeURIComponent(labelPath[1] as string);
    const request = parseLabelValuesRequest(label, params.name);
    return json(200, { values: await labelValues(store, request.name, request.label) });
  }
  throw new NotFoundError(`No route for ${path}`);
});
