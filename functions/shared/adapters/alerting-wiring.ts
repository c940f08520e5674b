import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CorrelatorService } from '../alerting/correlator-service';
import type { EvaluationDeps } from '../alerting/evaluation-service';
import { RoutingSource } from '../alerting/routing';
import { RuleSource } from '../alerting/rule-source';
import { broadcast } from '../broadcast';
import { timeOrderedId } from '../domain/alerting/ids';
import type { RoutingConfig } from '../domain/alerting/stores';
import { ConfigurationError, readEnv } from '../env';
import { ENV } from '../env-names';
import { logger } from '../logger';
import { decodeRoutingEnv } from '../routing-env';
import { ApiGatewayMessenger } from './apigw-messenger';
import { managementApiClient } from './clients';
import { DynamoAlertStateStore } from './dynamo-alert-state-store';
import { DynamoRuleStore, DynamoSilenceStore } from './dynamo-alerting-store';
import { DynamoConnectionRegistry } from './dynamo-connection-registry';
import {
  DynamoAlertsView,
  DynamoGroupStore,
  DynamoIncidentStore,
  DynamoRoutingStore,
} from './dynamo-correlation-store';
import { EventBridgeAlertPublisher } from './eventbridge-alert-publisher';
import { SnsNotifier } from './sns-notifier';
import { SqsWakeScheduler } from './sqs-wake-scheduler';

/**
 * Builds the alerting services from the environment, once per cold start: the functions that
 * evaluate rules (ingest, the schedule, the test trigger, rule deletion) and the ones that run the
 * correlator (its event and wake handler, the incidents API).
 */
export function evaluationFromEnv(client: DynamoDBDocumentClient): EvaluationDeps & { rules: RuleSource } {
  const env = readEnv([ENV.alertingTable, ENV.alertBusName]);
  return {
    rules: new RuleSource(new DynamoRuleStore(client, env.ALERTING_TABLE), (name, error) =>
      logger.error('A stored alert rule no longer parses; skipped', { rule: name, error: error as Error }),
    ),
    states: new DynamoAlertStateStore(client, env.ALERTING_TABLE),
    events: new EventBridgeAlertPublisher(new EventBridgeClient({}), env.ALERT_BUS_NAME),
    clock: Date.now,
  };
}

export function correlatorFromEnv(client: DynamoDBDocumentClient): CorrelatorService {
  const env = readEnv([
    ENV.alertingTable,
    ENV.notificationTopicArn,
    ENV.wakeQueueUrl,
    ENV.connectionsTable,
    ENV.websocketCallbackUrl,
    ENV.dashboardUrl,
  ]);
  const table = env.ALERTING_TABLE;
  const registry = new DynamoConnectionRegistry(client, env.CONNECTIONS_TABLE);
  const messenger = new ApiGatewayMessenger(managementApiClient(env.WEBSOCKET_CALLBACK_URL));
  return new CorrelatorService({
    groups: new DynamoGroupStore(client, table),
    incidents: new DynamoIncidentStore(client, table),
    alerts: new DynamoAlertsView(client, table),
    silences: new DynamoSilenceStore(client, table),
    routing: routingFromEnv(client),
    notifier: new SnsNotifier(new SNSClient({}), env.NOTIFICATION_TOPIC_ARN),
    scheduler: new SqsWakeScheduler(new SQSClient({}), env.WAKE_QUEUE_URL),
    broadcast: async (channel, message) => {
      try {
        const outcome = await broadcast(channel, message, {
          registry,
          messenger,
          onError: (connectionId, error) =>
            logger.warn('Broadcast to a connection failed', { connectionId, error: error as Error }),
        });
        logger.debug('Broadcast done', { channel, ...outcome });
      } catch (error) {
        logger.error('Broadcast failed; the change is stored', { channel, error: error as Error });
      }
    },
    clock: Date.now,
    newId: () => timeOrderedId(Date.now()),
    externalURL: env.DASHBOARD_URL,
    log: (level, message, detail) => logger[level](message, detail),
  });
}

/** The stage's default routing, from the environment; a malformed value fails the cold start. */
export function defaultRoutingFromEnv(): RoutingConfig {
  const text = readEnv([ENV.defaultRouting]).DEFAULT_ALERT_ROUTING;
  try {
    return JSON.parse(decodeRoutingEnv(text)) as RoutingConfig;
  } catch (error) {
    throw new ConfigurationError(`${ENV.defaultRouting} is not JSON: ${(error as Error).message}`);
  }
}

/** The routing in force: the one set at run time, else the stage's default. */
export function routingFromEnv(client: DynamoDBDocumentClient): RoutingSource {
  const table = readEnv([ENV.alertingTable]).ALERTING_TABLE;
  return new RoutingSource(new DynamoRoutingStore(client, table), defaultRoutingFromEnv());
}
