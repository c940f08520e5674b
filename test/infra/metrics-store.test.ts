import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/shared/env-names';
import { stageConfig } from '../../lib/config';
import { MetricsStore } from '../../lib/constructs/metrics-store';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function build(stage: 'dev' | 'prod') {
  const app = new App({ context: { 'aws:cdk:enable-asset-metadata': false } });
  const stack = new Stack(app, `Store-${stage}`);
  const config = stageConfig(stage);
  const store = new MetricsStore(stack, 'Metrics', { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  return { app, stack, store, template, resources: template.toJSON().Resources as Resources };
}

const fnId = (resources: Resources, prefix: string) =>
  Object.entries(resources).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description ?? '').startsWith(prefix),
  )?.[0] as string;

function actionsOf(resources: Resources, fn: string): string[] {
  const roleId = JSON.stringify(resources[fn]?.Properties.Role).match(/"Fn::GetAtt":\["([^"]+)"/)?.[1];
  return Object.values(resources)
    .filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .filter((a) => a.startsWith('dynamodb:'))
    .sort();
}

describe('MetricsStore construct', () => {
  let dev: ReturnType<typeof build>;
  let prod: ReturnType<typeof build>;

  beforeAll(() => {
    dev = build('dev');
    prod = build('prod');
  });

  it('keeps one on-demand table with string keys and a TTL attribute in epoch seconds', () => {
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('runs the compactor every minute, one run at a time, without async retries', () => {
    const compactor = fnId(dev.resources, 'Every minute: compacts');
    dev.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [compactor, 'Arn'] } })],
    });
    expect(dev.resources[compactor]?.Properties.ReservedConcurrentExecutions).toBe(1);
    dev.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  it.each([
    ['dev', 2, 7, 90],
    ['prod', 7, 30, 400],
  ] as const)(
    'passes the %s retention per resolution to the compactor and queries, in seconds',
    (stage, raw, m1, h1) => {
      const { resources } = stage === 'dev' ? dev : prod;
      for (const prefix of ['Every minute: compacts', 'GET /api/metrics/query']) {
        const fn = resources[fnId(resources, prefix)] as Resources[string];
        const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
        expect(variables).toMatchObject({
          [ENV.rawRetentionSeconds]: String(raw * 86_400),
          [ENV.minuteRollupRetentionSeconds]: String(m1 * 86_400),
          [ENV.hourRollupRetentionSeconds]: String(h1 * 86_400),
        });
        expect(variables[ENV.metricsTable]).toBeDefined();
      }
    },
  );

  it('grants the compactor and the query function only the table actions they use', () => {
    expect(actionsOf(dev.resources, fnId(dev.resources, 'Every minute: compacts'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    expect(actionsOf(dev.resources, fnId(dev.resources, 'GET /api/metrics/query'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(() => dev.app.synth()).not.toThrow();
  });
});
