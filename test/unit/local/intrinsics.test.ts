/* biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub templates use ${} on purpose */
import { describe, expect, it } from 'vitest';
import { createResolver, localApiId } from '../../../local/intrinsics';
import type { CfnTemplate } from '../../../local/types';

const template: CfnTemplate = {
  Parameters: {
    Stage: { Type: 'String', Default: 'dev' },
    Zones: { Type: 'CommaDelimitedList', Default: 'a,b' },
    NoDefault: { Type: 'String' },
  },
  Conditions: {
    IsDev: { 'Fn::Equals': [{ Ref: 'Stage' }, 'dev'] },
    IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
    NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
    DevAndNotProd: { 'Fn::And': [{ Condition: 'IsDev' }, { Condition: 'NotProd' }] },
    DevOrProd: { 'Fn::Or': [{ Condition: 'IsProd' }, { Condition: 'IsDev' }] },
  },
  Mappings: { Sizes: { dev: { Memory: 256 } } },
  Resources: {
    Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'series' } },
    UnnamedTable: { Type: 'AWS::DynamoDB::GlobalTable', Properties: {} },
    Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: { 'Fn::Sub': 'ingest-${Stage}' } } },
    Fn2: { Type: 'AWS::Lambda::Function', Properties: {} },
    Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'alerts' } },
    Rule: { Type: 'AWS::Events::Rule', Properties: { EventBusName: { Ref: 'Bus' } } },
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'dlq' } },
    HttpApi: { Type: 'AWS::ApiGatewayV2::Api', Properties: { ProtocolType: 'HTTP' } },
    WsApi: { Type: 'AWS::ApiGatewayV2::Api', Properties: { ProtocolType: 'WEBSOCKET' } },
    WsStage: { Type: 'AWS::ApiGatewayV2::Stage', Properties: { ApiId: { Ref: 'WsApi' }, StageName: 'live' } },
    HttpStage: {
      Type: 'AWS::ApiGatewayV2::Stage',
      Properties: { ApiId: { Ref: 'HttpApi' }, StageName: 'v1' },
    },
    Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
    Dist: { Type: 'AWS::CloudFront::Distribution', Properties: {} },
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/x' } },
    Secret: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'pw' } },
    Key: { Type: 'AWS::KMS::Key', Properties: {} },
    Other: { Type: 'AWS::SSM::Parameter', Properties: {} },
  },
};

const r = createResolver({
  template,
  stackName: 'Pulseboard',
  region: 'eu-west-1',
  accountId: '123456789012',
});

describe('localApiId', () => {
  it('is 10 deterministic lowercase alphanumeric characters per logical id', () => {
    // Prepare / Act
    const a = localApiId('HttpApi');
    // Assess
    expect(a).toMatch(/^[a-z0-9]{10}$/);
    expect(localApiId('HttpApi')).toBe(a);
    expect(localApiId('WsApi')).not.toBe(a);
  });
});

describe('Ref', () => {
  it('resolves pseudo parameters', () => {
    expect(r.resolve({ Ref: 'AWS::Region' })).toBe('eu-west-1');
    expect(r.resolve({ Ref: 'AWS::AccountId' })).toBe('123456789012');
    expect(r.resolve({ Ref: 'AWS::Partition' })).toBe('aws');
    expect(r.resolve({ Ref: 'AWS::URLSuffix' })).toBe('amazonaws.com');
    expect(r.resolve({ Ref: 'AWS::StackName' })).toBe('Pulseboard');
    expect(r.resolveString({ Ref: 'AWS::StackId' })).toMatch(
      /^arn:aws:cloudformation:eu-west-1:123456789012:stack\/Pulseboard\//,
    );
  });

  it('resolves parameters to their Default and lists to arrays', () => {
    expect(r.resolve({ Ref: 'Stage' })).toBe('dev');
    expect(r.resolve({ Ref: 'Zones' })).toEqual(['a', 'b']);
  });

  it('throws a clear error for a parameter without Default and an unknown name', () => {
    expect(() => r.resolve({ Ref: 'NoDefault' })).toThrow(/NoDefault.*no Default/);
    expect(() => r.resolve({ Ref: 'Missing' })).toThrow(/Missing/);
  });

  it('gives each resource type its local physical id', () => {
    expect(r.resolve({ Ref: 'Table' })).toBe('series');
    expect(r.resolve({ Ref: 'UnnamedTable' })).toBe('UnnamedTable');
    expect(r.resolve({ Ref: 'Fn' })).toBe('ingest-dev');
    expect(r.resolve({ Ref: 'Fn2' })).toBe('Fn2');
    expect(r.resolve({ Ref: 'Bus' })).toBe('alerts');
    expect(r.resolve({ Ref: 'Rule' })).toBe('Rule');
    expect(r.resolve({ Ref: 'Topic' })).toBe('arn:aws:sns:eu-west-1:123456789012:Topic');
    expect(r.resolve({ Ref: 'Queue' })).toBe('http://sqs.eu-west-1.localhost/123456789012/dlq');
    expect(r.resolve({ Ref: 'HttpApi' })).toBe(localApiId('HttpApi'));
    expect(r.resolve({ Ref: 'WsStage' })).toBe('live');
    expect(r.resolve({ Ref: 'Bucket' })).toBe('bucket');
    expect(r.resolve({ Ref: 'Dist' })).toMatch(/^E[0-9A-F]{13}$/);
    expect(r.resolve({ Ref: 'Role' })).toBe('Role');
    expect(r.resolve({ Ref: 'Logs' })).toBe('/aws/lambda/x');
    expect(r.resolve({ Ref: 'Secret' })).toMatch(/^arn:aws:secretsmanager:eu-west-1:123456789012:secret:pw-/);
    expect(r.resolve({ Ref: 'Key' })).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.resolve({ Ref: 'Other' })).toBe('Other');
  });
});

describe('Fn::GetAtt', () => {
  it('accepts the array and the dotted string forms', () => {
    expect(r.resolve({ 'Fn::GetAtt': ['Table', 'Arn'] })).toBe(
      'arn:aws:dynamodb:eu-west-1:123456789012:table/series',
    );
    expect(r.resolve({ 'Fn::GetAtt': 'Table.Arn' })).toBe(
      'arn:aws:dynamodb:eu-west-1:123456789012:table/series',
    );
  });

  it('gives each resource type its documented attributes', () => {
    expect(r.resolve({ 'Fn::GetAtt': ['Table', 'StreamArn'] })).toBe(
      'arn:aws:dynamodb:eu-west-1:123456789012:table/series/stream/1970-01-01T00:00:00.000',
    );
    expect(r.resolve({ 'Fn::GetAtt': ['Fn', 'Arn'] })).toBe(
      'arn:aws:lambda:eu-west-1:123456789012:function:ingest-dev',
    );
    expect(r.resolve({ 'Fn::GetAtt': ['Bus', 'Arn'] })).toBe(
      'arn:aws:events:eu-west-1:123456789012:event-bus/alerts',
    );
    expect(r.resolve({ 'Fn::GetAtt': ['Bus', 'Name'] })).toBe('alerts');
    expect(r.resolve({ 'Fn::GetAtt': ['Rule', 'Arn'] })).toBe(
      'arn:aws:events:eu-west-1:123456789012:rule/alerts/Rule',
    );
    expect(r.resolve({ 'Fn::GetAtt': ['Topic', 'TopicName'] })).toBe('Topic');
    expect(r.resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] })).toBe('arn:aws:sqs:eu-west-1:123456789012:dlq');
    expect(r.resolve({ 'Fn::GetAtt': ['Queue', 'QueueName'] })).toBe('dlq');
    expect(r.resolve({ 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] })).toBe(
      `https://${localApiId('HttpApi')}.execute-api.eu-west-1.amazonaws.com`,
    );
    expect(r.resolve({ 'Fn::GetAtt': ['WsApi', 'ApiEndpoint'] })).toBe(
      `wss://${localApiId('WsApi')}.execute-api.eu-west-1.amazonaws.com`,
    );
    expect(r.resolve({ 'Fn::GetAtt': ['Bucket', 'Arn'] })).toBe('arn:aws:s3:::bucket');
    expect(r.resolve({ 'Fn::GetAtt': ['Bucket', 'RegionalDomainName'] })).toBe(
      'bucket.s3.eu-west-1.amazonaws.com',
    );
    const distId = r.resolveString({ Ref: 'Dist' });
    expect(r.resolve({ 'Fn::GetAtt': ['Dist', 'DomainName'] })).toBe(
      `${distId.toLowerCase()}.cloudfront.net`,
    );
    expect(r.resolve({ 'Fn::GetAtt': ['Role', 'Arn'] })).toBe('arn:aws:iam::123456789012:role/Role');
    expect(r.resolve({ 'Fn::GetAtt': ['Other', 'Value'] })).toBe('Other.Value');
  });
});

describe('string functions', () => {
  it('joins resolved values', () => {
    expect(r.resolve({ 'Fn::Join': ['-', ['a', { Ref: 'Stage' }, 'b']] })).toBe('a-dev-b');
  });

  it('substitutes refs, attributes, pseudo parameters, variables and escapes', () => {
    // Prepare
    const value = {
      'Fn::Sub': [
        '${Table}|${Fn.Arn}|${AWS::Region}|${!Literal}|${X}',
        { X: { 'Fn::GetAtt': ['Bus', 'Name'] } },
      ],
    };
    // Act
    const out = r.resolve(value);
    // Assess
    expect(out).toBe(
      'series|arn:aws:lambda:eu-west-1:123456789012:function:ingest-dev|eu-west-1|${Literal}|alerts',
    );
    expect(r.resolve({ 'Fn::Sub': 'stage-${Stage}' })).toBe('stage-dev');
  });

  it('selects, splits and encodes', () => {
    expect(r.resolve({ 'Fn::Select': ['1', { 'Fn::Split': [',', 'x,y,z'] }] })).toBe('y');
    expect(r.resolve({ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] })).toBe('eu-west-1a');
    expect(r.resolve({ 'Fn::Base64': 'hello' })).toBe('aGVsbG8=');
    expect(r.resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'Memory'] })).toBe(256);
  });
});

describe('conditions', () => {
  it('evaluates Fn::If with Equals, Not, And, Or and Condition', () => {
    expect(r.resolve({ 'Fn::If': ['IsDev', 'd', 'p'] })).toBe('d');
    expect(r.resolve({ 'Fn::If': ['IsProd', 'p', 'd'] })).toBe('d');
    expect(r.resolve({ 'Fn::If': ['NotProd', 1, 2] })).toBe(1);
    expect(r.resolve({ 'Fn::If': ['DevAndNotProd', 1, 2] })).toBe(1);
    expect(r.resolve({ 'Fn::If': ['DevOrProd', 1, 2] })).toBe(1);
  });

  it('removes keys and elements that resolve to AWS::NoValue', () => {
    // Prepare
    const value = {
      Keep: 'x',
      Drop: { Ref: 'AWS::NoValue' },
      IfDrop: { 'Fn::If': ['IsProd', 'p', { Ref: 'AWS::NoValue' }] },
      List: ['a', { 'Fn::If': ['IsDev', { Ref: 'AWS::NoValue' }, 'b'] }, { Nested: { Ref: 'Stage' } }],
    };
    // Act / Assess
    expect(r.resolve(value)).toEqual({ Keep: 'x', List: ['a', { Nested: 'dev' }] });
  });
});

describe('errors', () => {
  it('names an unsupported intrinsic', () => {
    expect(() => r.resolve({ 'Fn::ImportValue': 'x' })).toThrow(/Fn::ImportValue/);
  });

  it('requires a string from resolveString', () => {
    expect(() => r.resolveString({ 'Fn::GetAZs': '' })).toThrow(/string/);
  });
});

describe('overrides', () => {
  it('win over the computed Ref and attributes', () => {
    // Prepare
    const url = 'http://sqs.eu-west-1.localhost:4566/123456789012/dlq';
    const ro = createResolver({
      template,
      stackName: 'S',
      overrides: { Queue: { ref: url, attrs: { Arn: 'arn:x' } }, Table: { attrs: { StreamArn: 's' } } },
    });
    // Act / Assess
    expect(ro.resolve({ Ref: 'Queue' })).toBe(url);
    expect(ro.resolve({ 'Fn::GetAtt': ['Queue', 'QueueUrl'] })).toBe(url);
    expect(ro.resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] })).toBe('arn:x');
    expect(ro.resolve({ 'Fn::GetAtt': ['Table', 'StreamArn'] })).toBe('s');
    expect(ro.resolve({ Ref: 'Table' })).toBe('series');
  });
});

describe('endpoint rewriting', () => {
  const endpoints = {
    httpBase: 'http://127.0.0.1:3000',
    webSocketUrl: 'ws://127.0.0.1:3000/ws',
    connectionsBase: 'http://127.0.0.1:3000/ws',
  };
  const rl = createResolver({ template, stackName: 'S', region: 'eu-west-1', endpoints });
  const http = localApiId('HttpApi');
  const ws = localApiId('WsApi');

  it('maps the HTTP API endpoint, with $default or a known stage, keeping the trailing path', () => {
    expect(rl.resolve({ 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] })).toBe('http://127.0.0.1:3000');
    expect(
      rl.resolve({ 'Fn::Sub': 'https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com/$default/x' }),
    ).toBe('http://127.0.0.1:3000/x');
    expect(rl.resolve(`https://${http.toUpperCase()}.execute-api.eu-west-1.amazonaws.com/v1/q?a=1`)).toBe(
      'http://127.0.0.1:3000/q?a=1',
    );
    expect(rl.resolve(`https://${http}.execute-api.eu-west-1.amazonaws.com/metrics`)).toBe(
      'http://127.0.0.1:3000/metrics',
    );
  });

  it('maps the WebSocket URL and its @connections callback URL', () => {
    expect(rl.resolve({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['WsApi', 'ApiEndpoint'] }, '/live']] })).toBe(
      'ws://127.0.0.1:3000/ws',
    );
    expect(rl.resolve({ Url: `https://${ws}.execute-api.eu-west-1.amazonaws.com/live` })).toEqual({
      Url: 'http://127.0.0.1:3000/ws',
    });
  });

  it('maps CloudFront URLs and bare domain names', () => {
    const domain = rl.resolveString({ 'Fn::GetAtt': ['Dist', 'DomainName'] });
    expect(domain).toBe('127.0.0.1:3000');
    expect(rl.resolve([{ 'Fn::Sub': 'https://${Dist.DomainName}/index.html' }])).toEqual([
      'http://127.0.0.1:3000/index.html',
    ]);
  });

  it('leaves unrelated URLs alone', () => {
    expect(rl.resolve('https://abcdefghij.execute-api.eu-west-1.amazonaws.com/x')).toBe(
      'https://abcdefghij.execute-api.eu-west-1.amazonaws.com/x',
    );
  });
});
