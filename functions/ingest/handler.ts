import { evaluationFromEnv } from '../shared/adapters/alerting-wiring';
import { ApiGatewayMessenger } from '../shared/adapters/apigw-messenger';
import { documentClient, dynamoClient, managementApiClient } from '../shared/adapters/clients';
import { DynamoConnectionRegistry } from '../shared/adapters/dynamo-connection-registry';
import { DynamoMetricsStore } from '../shared/adapters/dynamo-metrics-store';
import { idempotentByHeader } from '../shared/adapters/idempotency';
import { evaluateDatapoints } from '../shared/alerting/evaluation-service';
import { broadcast, broadcastPoints } from '../shared/broadcast';
import { MAX_REQUEST_BODY_BYTES, otlpResponse, parseIngestRequest } from '../shared/domain/ingest';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { PulseboardError } from '../shared/errors';
import { httpRoute } from '../shared/handler-kit';
import { bodyText, json } from '../shared/http';
import { logger } from '../shared/logger';
import { ingestItems } from './ingest';

const env = readEnv([ENV.metricsTable, ENV.connectionsTable, ENV.websocketCallbackUrl, ENV.idempotencyTable]);
const dynamo = dynamoClient();
const client = documentClient(dynamo);
const store = new DynamoMetricsStore(client, env.METRICS_TABLE);
const registry = new DynamoConnectionRegistry(client, env.CONNECTIONS_TABLE);
const messenger = new ApiGatewayMessenger(managementApiClient(env.WEBSOCKET_CALLBACK_URL));
const evaluation = evaluationFromEnv(client);

/**
 * OpenTelemetry SDKs attach a dozen resource attributes (telemetry.sdk.*, process.*), which would
 * exceed the 16-label limit on every point; these identify where a metric comes from.
 */
const OTLP_RESOURCE_LABELS = [
  'service.name',
  'service.namespace',
  'service.instance.id',
  'service.version',
  'deployment.environment',
  'deployment.environment.name',
  'host.name',
  'cloud.region',
  'k8s.namespace.name',
  'k8s.pod.name',
];

const onError = (connectionId: string, error: unknown) =>
  logger.warn('Broadcast to a connection failed', { connectionId, error: error as Error });

/**
 * POST /api/metrics (native JSON batch or Prometheus text) and POST /v1/metrics (OTLP/HTTP JSON).
 * Valid items are stored even when others are not: `202 {accepted, rejected?}`, or for OTLP
 * `200` with `partialSuccess`. Retries with the same Idempotency-Key are answered from memory.
 */
export const handler = httpRoute(
  async (event) => {
    const text = bodyText(event);
    if (Buffer.byteLength(text) > MAX_REQUEST_BODY_BYTES) {
      throw new PulseboardError(
        'PAYLOAD_TOO_LARGE',
        `Request bodies are limited to ${MAX_REQUEST_BODY_BYTES} bytes; send smaller batches`,
      );
    }
    const { format, items } = parseIngestRequest(event.headers['content-type'], text, {
      resourceAttributes: OTLP_RESOURCE_LABELS,
    });
    const result = await ingestItems(items, {
      store,
      clock: Date.now,
      publish: async (channel, message) => {
        const outcome = await broadcast(channel, message, { registry, messenger, onError });
        logger.debug('Broadcast done', { channel, ...outcome });
      },
      publishPoints: async (points) => {
        const outcome = await broadcastPoints(points, { registry, messenger, onError });
        logger.debug('Points broadcast done', { points: points.length, ...outcome });
      },
      onPublishError: (error) =>
        logger.error('Broadcast failed; points are stored', { error: error as Error }),
      evaluate: async (points) => {
        const rules = await evaluation.rules.rules();
        if (rules.length === 0) return;
        const outcome = await evaluateDatapoints(rules, points, evaluation);
        if (outcome.transitions.length > 0) {
          logger.info('Alert transitions published', { transitions: outcome.transitions.length });
        }
      },
      onEvaluateError: (error) =>
        logger.error('Alert evaluation failed; points are stored', { error: error as Error }),
    });
    if (format === 'otlp') {
      const summary = result.rejected
        .slice(0, 5)
        .map((r) => `#${r.index} ${r.code}: ${r.message}`)
        .join('; ');
      return json(200, otlpResponse(result.rejected.length, summary || undefined));
    }
    return json(202, result.rejected.length > 0 ? result : { accepted: result.accepted });
  },
  idempotentByHeader(env.IDEMPOTENCY_TABLE, dynamo),
);
