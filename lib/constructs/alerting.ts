import { Duration } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { AttributeType, type Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ALERT_DETAIL_TYPES,
  ALERT_EVENT_SOURCE,
} from '../../functions/shared/adapters/eventbridge-alert-publisher';
import { parseRouting } from '../../functions/shared/alerting/routing';
import { ENV } from '../../functions/shared/env-names';
import { encodeRoutingEnv } from '../../functions/shared/routing-env';
import { TABLE_KEYS } from '../../functions/shared/table-layout';
import type { StageConfig } from '../config';
import { pulseboardTable } from './defaults';
import type { PulseboardHttpApi } from './http-api';
import type { LiveUpdates } from './live-updates';
import { NodeFunction } from './node-function';

export interface AlertingProps {
  readonly config: StageConfig;
  readonly api: PulseboardHttpApi;
  readonly live: LiveUpdates;
  /** Where notifications are published. */
  readonly topic: ITopic;
  /** The dashboard's URL: Alertmanager's externalURL in notifications. */
  readonly dashboardUrl: string;
}

/** Lambda's default (and this stack's) limit on how long a correlator invocation may run. */
const CORRELATOR_TIMEOUT = Duration.seconds(30);
/** Lambda environments hold 4 KB in all; a larger routing tree belongs in PUT /api/alert-routing. */
const MAX_ROUTING_ENV_BYTES = 2048;

/**
 * Alerting (docs/alerting.md): rules and silences over one table, evaluation on ingest and on a
 * schedule, the bus carrying `Alert Firing`/`Alert Resolved`, the correlator (fed by the bus and by
 * a delay queue of group wakes), the incidents and alerts APIs, and a dead-letter queue for every
 * event that could not be handled.
 */
export class Alerting extends Construct {
  readonly bus: EventBus;
  readonly table: Table;
  readonly correlator: NodeFunction;
  readonly wakeQueue: Queue;
  /** Alert events and wakes that failed every retry; alarm on its depth. */
  readonly deadLetters: Queue;
  private readonly routingJson: string;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    const { config, api } = props;
    this.routingJson = stageRouting(config);
    this.bus = new EventBus(this, 'Bus', { description: 'Pulseboard alert state changes' });
    this.table = pulseboardTable(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE_KEYS.ttl,
      removalPolicy: config.removalPolicy,
    });
    this.deadLetters = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.wakeQueue = new Queue(this, 'Wakes', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's advice for a Lambda event source: at least six times the function's timeout.
      visibilityTimeout: Duration.seconds(CORRELATOR_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: 5 },
    });

    const fn = (construct: string, name: string, description: string, timeout?: Duration) =>
      new NodeFunction(this, construct, {
        name,
        description,
        environment: { [ENV.alertingTable]: this.table.tableName },
        logRetention: config.logRetention,
        logLevel: config.logLevel,
        removalPolicy: config.removalPolicy,
        timeout,
      });

    // ---- rules, routing and silences ---------------------------------------------------------
    const rules = fn('Rules', 'alert-rules', '/api/alert-rules and /api/alert-routing');
    // Evaluation rights cover the rules' own items too: deleting a rule resolves its alerts.
    this.grantEvaluation(rules);
    rules.addEnvironment(ENV.defaultRouting, this.routingJson);
    api.addRoute(HttpMethod.GET, '/api/alert-rules', rules);
    api.addRoute(HttpMethod.POST, '/api/alert-rules', rules);
    for (const method of [HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE]) {
      api.addRoute(method, '/api/alert-rules/{name}', rules);
      api.addRoute(method, '/api/alert-routing', rules);
    }

    const silences = fn('Silences', 'silences', '/api/silences: create, list and expire silences');
    this.table.grant(silences, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem');
    api.addRoute(HttpMethod.GET, '/api/silences', silences);
    api.addRoute(HttpMethod.POST, '/api/silences', silences);
    api.addRoute(HttpMethod.GET, '/api/silences/{id}', silences);
    api.addRoute(HttpMethod.DELETE, '/api/silences/{id}', silences);
    // The same silences in Alertmanager's API v2 shapes (amtool, Grafana).
    api.addRoute(HttpMethod.GET, '/api/v2/silences', silences);
    api.addRoute(HttpMethod.POST, '/api/v2/silences', silences);
    api.addRoute(HttpMethod.GET, '/api/v2/silence/{id}', silences);
    api.addRoute(HttpMethod.DELETE, '/api/v2/silence/{id}', silences);

    // Alertmanager's API v2 for alert senders (Prometheus): alerts join the same pipeline.
    const alertmanager = fn(
      'AlertmanagerApi',
      'alertmanager-api',
      'Alertmanager API v2: alerts, status, receivers, probes',
    );
    this.grantEvaluation(alertmanager);
    alertmanager.addEnvironment(ENV.defaultRouting, this.routingJson);
    api.addRoute(HttpMethod.POST, '/api/v2/alerts', alertmanager);
    api.addRoute(HttpMethod.GET, '/api/v2/alerts', alertmanager);
    api.addRoute(HttpMethod.GET, '/api/v2/alerts/groups', alertmanager);
    api.addRoute(HttpMethod.GET, '/api/v2/status', alertmanager);
    api.addRoute(HttpMethod.GET, '/api/v2/receivers', alertmanager);
    api.addRoute(HttpMethod.GET, '/-/healthy', alertmanager, { public: true });
    api.addRoute(HttpMethod.GET, '/-/ready', alertmanager, { public: true });

    // ---- evaluation on a schedule --------------------------------------------------------------
    const evaluator = fn(
      'Evaluator',
      'alert-evaluator',
      'Scheduled alert evaluation: absence, stopped data, pending alerts',
      Duration.seconds(60),
    );
    this.grantEvaluation(evaluator);
    new Rule(this, 'EvaluationSchedule', {
      description: 'Runs the scheduled alert evaluation',
      schedule: Schedule.rate(config.alerting.evaluationInterval),
      targets: [new LambdaFunction(evaluator, { retryAttempts: 0 })],
    });

    // ---- the correlator --------------------------------------------------------------------------
    this.correlator = fn(
      'Correlator',
      'correlator',
      'Groups, deduplicates, inhibits and silences alerts into incidents; notifies through SNS',
      CORRELATOR_TIMEOUT,
    );
    this.grantCorrelation(this.correlator, props);
    this.correlator.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.deadLetters),
    });
    new Rule(this, 'AlertEvents', {
      description: 'Alert state changes to the correlator',
      eventBus: this.bus,
      eventPattern: {
        source: [ALERT_EVENT_SOURCE],
        detailType: [ALERT_DETAIL_TYPES.firing, ALERT_DETAIL_TYPES.resolved],
      },
      targets: [
        new LambdaFunction(this.correlator, {
          deadLetterQueue: this.deadLetters,
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
    this.correlator.addEventSource(
      new SqsEventSource(this.wakeQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    // ---- incidents and alerts APIs ---------------------------------------------------------------
    const incidents = fn('Incidents', 'incidents', '/api/incidents: list, read, acknowledge, resolve');
    this.grantCorrelation(incidents, props);
    api.addRoute(HttpMethod.GET, '/api/incidents', incidents);
    api.addRoute(HttpMethod.GET, '/api/incidents/{id}', incidents);
    api.addRoute(HttpMethod.POST, '/api/incidents/{id}/ack', incidents);
    api.addRoute(HttpMethod.POST, '/api/incidents/{id}/resolve', incidents);

    const alerts = fn('Alerts', 'alerts', '/api/alerts and the end-to-end test trigger');
    this.grantEvaluation(alerts);
    alerts.addEnvironment(ENV.defaultRouting, this.routingJson);
    api.addRoute(HttpMethod.GET, '/api/alerts', alerts);
    api.addRoute(HttpMethod.POST, '/api/alerts/test-trigger', alerts);
  }

  /**
   * Lets a function evaluate rules: read rules, read and write evaluation state, publish
   * transitions. The ingest function gets this for streaming evaluation.
   */
  grantEvaluation(fn: NodeFunction): void {
    this.table.grant(
      fn,
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    this.bus.grantPutEventsTo(fn);
    fn.addEnvironment(ENV.alertingTable, this.table.tableName);
    fn.addEnvironment(ENV.alertBusName, this.bus.eventBusName);
  }

  /** Lets a function run the correlator: groups, incidents, alerts, SNS, wakes and broadcasts. */
  private grantCorrelation(fn: NodeFunction, props: AlertingProps): void {
    this.table.grant(fn, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    props.topic.grantPublish(fn);
    this.wakeQueue.grantSendMessages(fn);
    props.live.grantBroadcast(fn);
    fn.addEnvironment(ENV.notificationTopicArn, props.topic.topicArn);
    fn.addEnvironment(ENV.wakeQueueUrl, this.wakeQueue.queueUrl);
    fn.addEnvironment(ENV.dashboardUrl, props.dashboardUrl);
    fn.addEnvironment(ENV.defaultRouting, this.routingJson);
  }
}

/**
 * The stage's routing for the functions' environment (JSON, gzipped when long), validated now
 * rather than at the first alert.
 */
function stageRouting(config: StageConfig): string {
  const routing = parseRouting(config.alerting.routing);
  const value = encodeRoutingEnv(JSON.stringify(routing.config));
  if (Buffer.byteLength(value) > MAX_ROUTING_ENV_BYTES) {
    throw new Error(
      `The ${config.stage} stage's alert routing takes ${Buffer.byteLength(value)} bytes compressed; keep it ` +
        `under ${MAX_ROUTING_ENV_BYTES} or set the full tree at run time with PUT /api/alert-routing`,
    );
  }
  return value;
}
