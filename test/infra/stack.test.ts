import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { actionsOf, build, functionId, type Resources, routeTarget } from './helpers';

describe('Pulseboard stack (dev)', () => {
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    const { stack } = build('dev');
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources as Resources;
  });

  it('routes each HTTP path to its function', () => {
    expect(routeTarget(resources, 'POST /api/metrics')).toBe(functionId(resources, 'POST /api/metrics'));
    expect(routeTarget(resources, 'POST /v1/metrics')).toBe(functionId(resources, 'POST /api/metrics'));
    expect(routeTarget(resources, 'GET /api/dashboard/system-metrics')).toBe(
      functionId(resources, 'GET /api/dashboard/system-metrics'),
    );
  });

  it('routes the WebSocket lifecycle and actions, selecting on the body action', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
    expect(routeTarget(resources, '$connect')).toBe(functionId(resources, 'WebSocket $connect'));
    expect(routeTarget(resources, '$disconnect')).toBe(functionId(resources, 'WebSocket $disconnect'));
    for (const key of ['subscribe', 'unsubscribe', 'ping', '$default']) {
      expect(routeTarget(resources, key)).toBe(functionId(resources, 'WebSocket subscribe'));
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: key,
        RouteResponseSelectionExpression: '$default',
      });
    }
  });

  it('runs every function on Node 22, arm64, with source maps and a log level', () => {
    const functions = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        String(r.Properties.Description ?? '').length > 0 &&
        r.Properties.Runtime !== undefined,
    );
    const ours = functions.filter(
      (r) =>
        !String(r.Properties.Handler).startsWith('index.handler') || r.Properties.Runtime === 'nodejs22.x',
    );
    expect(ours.length).toBeGreaterThanOrEqual(5);
    for (const fn of ours) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Environment: {
          Variables: expect.objectContaining({
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_LOG_LEVEL: 'DEBUG',
          }),
        },
      });
    }
  });

  it('gives the ingest function its tables and the callback URL', () => {
    const ingest = resources[functionId(resources, 'POST /api/metrics')];
    const vars =
      (ingest?.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(Object.keys(vars)).toEqual(
      expect.arrayContaining([
        'METRICS_TABLE',
        'CONNECTIONS_TABLE',
        'WEBSOCKET_CALLBACK_URL',
        'IDEMPOTENCY_TABLE',
      ]),
    );
  });

  it('grants each function only what it uses', () => {
    expect(actionsOf(resources, functionId(resources, 'POST /api/metrics')).sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:PutItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:Query',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        // Streaming alert evaluation: rules, per-series state, the bus.
        'dynamodb:BatchGetItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        'execute-api:ManageConnections',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    expect(actionsOf(resources, functionId(resources, 'GET /api/dashboard/system-metrics')).sort()).toEqual(
      ['dynamodb:GetItem', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents'].sort(),
    );
    expect(actionsOf(resources, functionId(resources, 'WebSocket $connect')).sort()).toEqual(
      ['dynamodb:BatchWriteItem', 'logs:CreateLogStream', 'logs:PutLogEvents'].sort(),
    );
  });

  it('routes the alert-rules and silences APIs to their functions, with only the table actions they use', () => {
    const rules = functionId(resources, '/api/alert-rules');
    const silences = functionId(resources, '/api/silences');
    for (const key of [
      'GET /api/alert-rules',
      'POST /api/alert-rules',
      'GET /api/alert-rules/{name}',
      'PUT /api/alert-rules/{name}',
      'DELETE /api/alert-rules/{name}',
    ]) {
      expect(routeTarget(resources, key), key).toBe(rules);
    }
    for (const key of [
      'GET /api/silences',
      'POST /api/silences',
      'GET /api/silences/{id}',
      'DELETE /api/silences/{id}',
    ]) {
      expect(routeTarget(resources, key), key).toBe(silences);
    }
    // Deleting a rule resolves its alerts: evaluation state and the bus.
    expect(actionsOf(resources, rules).sort()).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
    expect(actionsOf(resources, silences).sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
  });

  it('lets the broadcaster query the channel index by its exact ARN, not every index', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('/index/byChannel');
    expect(policies).not.toContain('/index/*');
  });

  it('keys the connections table for lookup by connection and by channel, with TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byChannel',
          KeySchema: [
            { AttributeName: 'channel', KeyType: 'HASH' },
            { AttributeName: 'connectionId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
      ],
    });
  });

  it('deploys stages with throttling and access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'dev',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('allows CORS only from the dashboard origin and the stage extras', () => {
    const api = Object.values(resources).find(
      (r) => r.Type === 'AWS::ApiGatewayV2::Api' && r.Properties.ProtocolType === 'HTTP',
    );
    const origins =
      (api?.Properties.CorsConfiguration as { AllowOrigins: unknown[] } | undefined)?.AllowOrigins ?? [];
    expect(origins).toHaveLength(2);
    expect(JSON.stringify(origins[0])).toContain('DomainName');
    expect(origins[1]).toBe('http://localhost:5173');
  });

  it('publishes the dashboard with a config.json carrying both API URLs', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      SourceMarkers: Match.arrayWith([Match.objectLike({})]),
      Prune: true,
    });
    const deployment = JSON.stringify(template.findResources('Custom::CDKBucketDeployment'));
    expect(deployment).toContain('ApiEndpoint');
  });

  it('remembers idempotency keys in their own table, expiring by TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    const ingest = resources[functionId(resources, 'POST /api/metrics')];
    expect(JSON.stringify(ingest?.Properties.Environment)).toContain('IDEMPOTENCY_TABLE');
  });

  it('has the three outputs the tools read', () => {
    template.hasOutput('HttpApiUrl', {});
    template.hasOutput('WebSocketUrl', {});
    template.hasOutput('DashboardUrl', {});
  });

  it('has an event bus for alerts and an encrypted notification topic', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each(['dev', 'prod'] as const)('finds nothing unacknowledged in the %s stage', (stage) => {
    const { app } = build(stage);

    expect(() => app.synth()).not.toThrow();
  });

  it('would fail synthesis on a new unacknowledged finding', async () => {
    const { app, stack } = build('dev');
    const { Bucket } = await import('aws-cdk-lib/aws-s3');
    new Bucket(stack, 'UnloggedBucket');

    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});
