import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeRoutingEnv } from '../../functions/shared/routing-env';
import { parseAlertmanagerConfig } from '../../lib/alertmanager-config';
import { stageConfig, withAlertmanagerConfig } from '../../lib/config';
import { actionsOf, build, functionId, type Resources, routeTarget } from './helpers';

describe('Alerting (dev stage)', () => {
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    const { stack } = build('dev');
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources as Resources;
  });

  const envOf = (fnId: string) =>
    ((resources[fnId]?.Properties.Environment as { Variables: Record<string, unknown> }) ?? { Variables: {} })
      .Variables;

  it('routes alert events from the bus to the correlator, with a dead-letter queue and a retry policy', () => {
    const correlator = functionId(resources, 'Groups, deduplicates');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.anyValue(),
      EventPattern: { source: ['pulseboard.alerts'], 'detail-type': ['Alert Firing', 'Alert Resolved'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [correlator, 'Arn'] },
          DeadLetterConfig: { Arn: Match.anyValue() },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
        }),
      ],
    });
    // Function errors after Lambda's async retries land in the same queue.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: correlator },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('wakes groups through a delay queue the correlator consumes with partial batch failures', () => {
    const correlator = functionId(resources, 'Groups, deduplicates');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: correlator },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 180,
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
      SqsManagedSseEnabled: true,
    });
    expect(Object.keys(envOf(correlator))).toEqual(
      expect.arrayContaining([
        'ALERTING_TABLE',
        'NOTIFICATION_TOPIC_ARN',
        'WAKE_QUEUE_URL',
        'CONNECTIONS_TABLE',
        'WEBSOCKET_CALLBACK_URL',
        'DASHBOARD_URL',
        'DEFAULT_ALERT_ROUTING',
      ]),
    );
  });

  it('runs the scheduled evaluation at the stage interval', () => {
    const evaluator = functionId(resources, 'Scheduled alert evaluation');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [evaluator, 'Arn'] } })],
    });
  });

  it('evaluates on ingest: the ingest function can read rules, write state and publish to the bus', () => {
    const ingest = functionId(resources, 'POST /api/metrics');
    expect(Object.keys(envOf(ingest))).toEqual(expect.arrayContaining(['ALERTING_TABLE', 'ALERT_BUS_NAME']));
    expect(actionsOf(resources, ingest)).toEqual(
      expect.arrayContaining(['events:PutEvents', 'dynamodb:BatchGetItem']),
    );
  });

  it('routes the incidents, alerts and routing APIs', () => {
    const incidents = functionId(resources, '/api/incidents');
    const alerts = functionId(resources, '/api/alerts and');
    const rules = functionId(resources, '/api/alert-rules');
    for (const key of [
      'GET /api/incidents',
      'GET /api/incidents/{id}',
      'POST /api/incidents/{id}/ack',
      'POST /api/incidents/{id}/resolve',
    ]) {
      expect(routeTarget(resources, key), key).toBe(incidents);
    }
    expect(routeTarget(resources, 'GET /api/alerts')).toBe(alerts);
    expect(routeTarget(resources, 'POST /api/alerts/test-trigger')).toBe(alerts);
    for (const key of ['GET /api/alert-routing', 'PUT /api/alert-routing', 'DELETE /api/alert-routing']) {
      expect(routeTarget(resources, key), key).toBe(rules);
    }
  });

  it('lets only the correlator and the incidents API publish notifications and send wakes', () => {
    const publishers = Object.keys(resources)
      .filter((id) => resources[id]?.Type === 'AWS::Lambda::Function')
      .filter((id) => actionsOf(resources, id).includes('sns:Publish'));
    expect(publishers.sort()).toEqual(
      [functionId(resources, 'Groups, deduplicates'), functionId(resources, '/api/incidents')].sort(),
    );
    for (const id of publishers) expect(actionsOf(resources, id)).toContain('sqs:SendMessage');
    expect(actionsOf(resources, functionId(resources, '/api/incidents'))).not.toContain('events:PutEvents');
  });

  it('passes the stage routing to the functions as JSON', () => {
    const correlator = functionId(resources, 'Groups, deduplicates');
    expect(JSON.parse(String(envOf(correlator).DEFAULT_ALERT_ROUTING))).toEqual({
      route: { receiver: 'default', group_by: ['alertname'] },
    });
  });
});

describe('Alerting stage configuration', () => {
  it('refuses to synthesize an invalid routing tree, naming the problem', () => {
    const dev = stageConfig('dev');
    expect(() =>
      build('dev', { alerting: { ...dev.alerting, routing: { route: { group_wait: 'soon' } } } }),
    ).toThrow(/route\.receiver.*|group_wait/);
  });

  it('subscribes the stage email addresses and HTTPS endpoints to the notifications topic', () => {
    const { stack } = build('prod', {
      notifications: { emails: ['oncall@example.com'], httpsEndpoints: ['https://hooks.example.com/am'] },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://hooks.example.com/am',
    });
    expectDeadLetters(template, 2);
  });

  it('creates no dead-letter queue for notifications when the stage has no subscriptions', () => {
    const resources = Template.fromStack(build('dev').stack).toJSON().Resources as Resources;
    expect(Object.keys(resources).filter((id) => id.startsWith('NotificationsDeadLetters'))).toEqual([]);
  });

  it('refuses a plain-HTTP notification endpoint', () => {
    expect(() =>
      build('prod', { notifications: { emails: [], httpsEndpoints: ['http://hooks.example.com/am'] } }),
    ).toThrow(/must use https/);
  });

  it('loads an alertmanager.yml: its routing is the stage default, its receivers filtered subscriptions', () => {
    const loaded = parseAlertmanagerConfig(`
route:
  receiver: team
  routes: [{ matchers: ['severity="critical"'], receiver: pager }]
receivers:
  - name: team
    email_configs: [{ to: team@example.com }]
  - name: pager
    webhook_configs: [{ url: 'https://pager.example.com/hook' }]
`);
    const config = withAlertmanagerConfig(stageConfig('prod'), loaded);
    const { app, stack } = build('prod', config);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'team@example.com',
      FilterPolicy: { receiver: ['team'], status: ['firing'] },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://pager.example.com/hook',
      FilterPolicy: { receiver: ['pager'] },
      RawMessageDelivery: true,
    });
    expectDeadLetters(template, 2);
    const resources = template.toJSON().Resources as Resources;
    const correlator = functionId(resources, 'Groups, deduplicates');
    const env = environmentOf(resources, correlator);
    expect(Object.values(env)).toContain(JSON.stringify(loaded.routing));
    expect(() => app.synth()).not.toThrow(); // cdk-nag included
  });

  it('gzips a long routing tree into the environment, and the functions read it back', () => {
    const teams = Array.from({ length: 60 }, (_, i) => `team-${i}`);
    const routing = {
      route: {
        receiver: 'default',
        group_by: ['alertname', 'cluster', 'service'],
        routes: teams.map((team) => ({ matchers: [`team="${team}"`], receiver: team, group_wait: '10s' })),
      },
    };
    const json = JSON.stringify(routing);
    expect(json.length).toBeGreaterThan(4_096); // more than Lambda's whole environment allows
    const { stack } = build('prod', { alerting: { ...stageConfig('prod').alerting, routing } });
    const resources = Template.fromStack(stack).toJSON().Resources as Resources;
    const correlator = functionId(resources, 'Groups, deduplicates');
    const env = environmentOf(resources, correlator);
    const stored =
      Object.values(env).find((v): v is string => typeof v === 'string' && v.startsWith('gzip:')) ?? '';
    expect(stored.length).toBeLessThanOrEqual(2_048);
    expect(JSON.parse(decodeRoutingEnv(stored))).toEqual(routing);
  });

  it('refuses an endpoint that is both a stage subscription and a receiver', () => {
    const loaded = parseAlertmanagerConfig(
      'route: { receiver: a }\nreceivers: [{ name: a, email_configs: [{ to: oncall@example.com }] }]\n',
    );
    const config = withAlertmanagerConfig(stageConfig('prod'), loaded);
    expect(() =>
      build('prod', {
        ...config,
        notifications: { ...config.notifications, emails: ['oncall@example.com'] },
      }),
    ).toThrow(/both a stage subscription and an alertmanager.yml receiver/);
  });
});

function environmentOf(resources: Resources, fnId: string): Record<string, unknown> {
  const environment = resources[fnId]?.Properties.Environment as
    | { Variables?: Record<string, unknown> }
    | undefined;
  return environment?.Variables ?? {};
}

/**
 * Every notification subscription sends what SNS gives up on to one encrypted queue, and only the
 * topic may write to it.
 */
function expectDeadLetters(template: Template, subscriptions: number): void {
  const queues = template.findResources('AWS::SQS::Queue', {
    Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 },
  });
  const dlq = Object.keys(queues).find((id) => id.startsWith('NotificationsDeadLetters'));
  expect(dlq).toBeDefined();
  const redrives = Object.values(template.findResources('AWS::SNS::Subscription')).map(
    (r) => (r as { Properties: { RedrivePolicy?: unknown } }).Properties.RedrivePolicy,
  );
  expect(redrives).toEqual(
    Array.from({ length: subscriptions }, () => ({ deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] } })),
  );
  template.hasResourceProperties('AWS::SQS::QueuePolicy', {
    Queues: [{ Ref: dlq }],
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Action: 'sqs:SendMessage',
          Principal: { Service: 'sns.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() } },
        }),
      ]),
    },
  });
}
