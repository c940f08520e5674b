import { documentClient } from '../shared/adapters/clients';
import { DynamoMetricsStore } from '../shared/adapters/dynamo-metrics-store';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { httpRoute } from '../shared/handler-kit';
import { json } from '../shared/http';
import { latestSnapshot } from './system-metrics';

const env = readEnv([ENV.metricsTable]);
const store = new DynamoMetricsStore(documentClient(), env.METRICS_TABLE);

/** GET /api/dashboard/system-metrics[?host=]: `{timestamp, host, cpu_usage, memory_usage, …}`. */
export const handler = httpRoute(async (event) =>
  json(200, await latestSnapshot(store, event.queryStringParameters?.host)),
);
