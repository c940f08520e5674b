import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type LocalEventBridge,
  rateToMs,
  type ScheduleTimers,
  startEventBridge,
} from '../../../local/eventbridge';
import { createResolver } from '../../../local/intrinsics';
import type { CfnTemplate, FunctionInvoker } from '../../../local/types';

const fnArn = (name: string) => ({ 'Fn::GetAtt': [name, 'Arn'] });

const template: CfnTemplate = {
  Resources: {
    Correlator: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'correlator' } },
    Audit: { Type: 'AWS::Lambda::Function', Properties: {} },
    Evaluator: { Type: 'AWS::Lambda::Function', Properties: {} },
    Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'alerts' } },
    Dlq: { Type: 'AWS::SQS::Queue', Properties: {} },
    Sink: { Type: 'AWS::SQS::Queue', Properties: {} },
    FiringRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventBusName: { Ref: 'Bus' },
        EventPattern: { source: ['pulseboard.alerts'], 'detail-type': ['Alert Firing', 'Alert Resolved'] },
        Targets: [
          { Id: 'correlator', Arn: fnArn('Correlator') },
          { Id: 'shaped', Arn: fnArn('Audit'), InputPath: '$.detail' },
          {
            Id: 'transformed',
            Arn: fnArn('Audit'),
            InputTransformer: {
              InputPathsMap: { rule: '$.detail.ruleId', value: '$.detail.value' },
              InputTemplate: '{"text": "rule <rule> at <value>", "value": <value>, "rule": <rule>}',
            },
          },
          { Id: 'constant', Arn: fnArn('Audit'), Input: '{"fixed":true}' },
          { Id: 'queue', Arn: { 'Fn::GetAtt': ['Sink', 'Arn'] } },
        ],
      },
    },
    DefaultBusRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: { source: ['pulseboard.alerts'] },
        Targets: [{ Id: 'a', Arn: fnArn('Evaluator') }],
      },
    },
    DisabledRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        State: 'DISABLED',
        EventBusName: 'alerts',
        EventPattern: { source: ['pulseboard.alerts'] },
        Targets: [{ Id: 'a', Arn: fnArn('Evaluator') }],
      },
    },
    GhostRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventBusName: { 'Fn::GetAtt': ['Bus', 'Arn'] },
        EventPattern: { source: ['pulseboard.ghost'] },
        Targets: [
          {
            Id: 'ghost',
            Arn: 'arn:aws:lambda:us-east-1:000000000000:function:deleted',
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 2 },
          },
        ],
      },
    },
    Every5Minutes: {
      Type: 'AWS::Events::Rule',
      Properties: { ScheduleExpression: 'rate(5 minutes)', Targets: [{ Id: 'e', Arn: fnArn('Evaluator') }] },
    },
    Nightly: {
      Type: 'AWS::Events::Rule',
      Properties: {
        ScheduleExpression: 'cron(0 3 * * ? *)',
        Targets: [{ Id: 'e', Arn: fnArn('Evaluator') }],
      },
    },
  },
};

const resolver = createResolver({ template, stackName: 'Test' });
const arnOf = (id: string) => resolver.resolveString({ 'Fn::GetAtt': [id, 'Arn'] });

interface Harness {
  eb: LocalEventBridge;
  client: EventBridgeClient;
  calls: Array<{ ref: string; event: Record<string, unknown> }>;
  sqs: Array<{ queueArn: string; body: string; attributes?: Record<string, string> }>;
  logs: string[];
  intervals: Array<{ fn: () => void; ms: number; cleared: boolean }>;
}

let h: Harness | undefined;

async function start(): Promise<Harness> {
  const calls: Harness['calls'] = [];
  const sqs: Harness['sqs'] = [];
  const logs: string[] = [];
  const intervals: Harness['intervals'] = [];
  const invoker: FunctionInvoker = {
    invoke: async () => ({ kind: 'ok', payload: null }),
    invokeAsync: (ref, event) => calls.push({ ref, event: event as Record<string, unknown> }),
  };
  const timers: ScheduleTimers = {
    setInterval: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      intervals.push(t);
      return t;
    },
    clearInterval: (t) => {
      (t as { cleared: boolean }).cleared = true;
    },
  };
  const eb = await startEventBridge({
    template,
    resolver,
    invoker,
    sqsSend: (queueArn, body, attributes) => {
      sqs.push({ queueArn, body, attributes });
    },
    log: (line) => logs.push(line),
    timers,
    now: () => new Date('2026-01-02T03:04:05.678Z'),
  });
  const client = new EventBridgeClient({
    endpoint: eb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  h = { eb, client, calls, sqs, logs, intervals };
  return h;
}

afterEach(async () => {
  h?.client.destroy();
  await h?.eb.stop();
  h = undefined;
});

const firing: PutEventsRequestEntry = {
  EventBusName: 'alerts',
  Source: 'pulseboard.alerts',
  DetailType: 'Alert Firing',
  Detail: JSON.stringify({ ruleId: 'cpu-high', value: 97.5 }),
  Resources: ['arn:aws:dynamodb:us-east-1:000000000000:table/rules'],
  Time: new Date('2026-05-06T07:08:09Z'),
};

describe('startEventBridge PutEvents', () => {
  it('accepts events from the real SDK client and routes a match to the Lambda target with the envelope', async () => {
    // Prepare
    const { client, calls } = await start();
    // Act
    const out = await client.send(new PutEventsCommand({ Entries: [firing] }));
    // Assess
    expect(out.FailedEntryCount).toBe(0);
    const eventId = out.Entries?.[0]?.EventId;
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(calls.find((c) => c.ref === arnOf('Correlator'))?.event).toEqual({
      version: '0',
      id: eventId,
      'detail-type': 'Alert Firing',
      source: 'pulseboard.alerts',
      account: '000000000000',
      time: '2026-05-06T07:08:09Z',
      region: 'us-east-1',
      resources: ['arn:aws:dynamodb:us-east-1:000000000000:table/rules'],
      detail: { ruleId: 'cpu-high', value: 97.5 },
    });
  });

  it('routes only to enabled rules on the event bus the entry names', async () => {
    // Prepare
    const { client, calls } = await start();
    // Act
    await client.send(new PutEventsCommand({ Entries: [firing] }));
    await client.send(new PutEventsCommand({ Entries: [{ ...firing, EventBusName: undefined }] }));
    // Assess
    expect(calls.filter((c) => c.ref === arnOf('Correlator'))).toHaveLength(1);
    expect(calls.filter((c) => c.ref === arnOf('Evaluator'))).toHaveLength(1);
  });

  it('does not deliver an event that matches no rule', async () => {
    // Prepare
    const { client, calls } = await start();
    // Act
    const out = await client.send(
      new PutEventsCommand({ Entries: [{ ...firing, DetailType: 'Something Else' }] }),
    );
    // Assess
    expect(out.FailedEntryCount).toBe(0);
    expect(calls).toEqual([]);
  });

  it('applies Input, InputPath and InputTransformer to what the target receives', async () => {
    // Prepare
    const { client, calls } = await start();
    // Act
    await client.send(new PutEventsCommand({ Entries: [firing] }));
    // Assess
    const audit = calls.filter((c) => c.ref === arnOf('Audit')).map((c) => c.event);
    expect(audit).toEqual([
      { ruleId: 'cpu-high', value: 97.5 },
      { text: 'rule cpu-high at 97.5', value: 97.5, rule: 'cpu-high' },
      { fixed: true },
    ]);
  });

  it('sends to SQS targets through sqsSend', async () => {
    // Prepare
    const { client, sqs } = await start();
    // Act
    await client.send(new PutEventsCommand({ Entries: [firing] }));
    // Assess
    expect(sqs).toHaveLength(1);
    expect(sqs[0]?.queueArn).toBe(arnOf('Sink'));
    expect(JSON.parse(sqs[0]?.body ?? '{}')).toMatchObject({
      source: 'pulseboard.alerts',
      'detail-type': 'Alert Firing',
    });
  });

  it('sends an event whose target function does not exist to the dead-letter queue', async () => {
    // Prepare
    const { client, sqs, calls } = await start();
    // Act
    await client.send(new PutEventsCommand({ Entries: [{ ...firing, Source: 'pulseboard.ghost' }] }));
    // Assess
    expect(calls).toEqual([]);
    expect(sqs).toEqual([
      {
        queueArn: arnOf('Dlq'),
        body: expect.stringContaining('"source":"pulseboard.ghost"'),
        attributes: {
          RULE_ARN: arnOf('GhostRule'),
          TARGET_ARN: 'arn:aws:lambda:us-east-1:000000000000:function:deleted',
          ERROR_CODE: 'ResourceNotFoundException',
          ERROR_MESSAGE: expect.stringContaining('deleted'),
        },
      },
    ]);
  });

  it('rejects invalid entries one by one, as AWS does', async () => {
    // Prepare
    const { client, calls } = await start();
    // Act
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          { ...firing, Source: undefined },
          { ...firing, DetailType: undefined },
          { ...firing, Detail: undefined },
          { ...firing, Detail: '[1,2]' },
          { ...firing, Detail: '{not json' },
          { ...firing, EventBusName: 'nope' },
          firing,
        ],
      }),
    );
    // Assess
    expect(out.FailedEntryCount).toBe(6);
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'InvalidArgument',
      'InvalidArgument',
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'ResourceNotFoundException',
      'ok',
    ]);
    expect(out.Entries?.[0]?.ErrorMessage).toMatch(/Source is a required argument/);
    expect(calls.filter((c) => c.ref === arnOf('Correlator'))).toHaveLength(1);
  });

  it('rejects more than 10 entries with a ValidationException', async () => {
    // Prepare
    const { client } = await start();
    // Act
    const sent = client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => firing) }));
    // Assess
    await expect(sent).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('rejects a request over 256 KB with a ValidationException', async () => {
    // Prepare
    const { client } = await start();
    const big = JSON.stringify({ blob: 'x'.repeat(200 * 1024) });
    // Act
    const sent = client.send(
      new PutEventsCommand({
        Entries: [
          { ...firing, Detail: big },
          { ...firing, Detail: big },
        ],
      }),
    );
    // Assess
    await expect(sent).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('answers an unknown action with an AWS-style error', async () => {
    // Prepare
    const { eb } = await start();
    // Act
    const res = await fetch(eb.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.ListRules' },
      body: '{}',
    });
    // Assess
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

describe('startEventBridge schedules', () => {
  it('fires rate() rules with the Scheduled Event envelope and logs cron() as unsupported', async () => {
    // Prepare
    const { calls, intervals, logs } = await start();
    // Act
    expect(intervals).toHaveLength(1);
    intervals[0]?.fn();
    // Assess
    expect(intervals[0]?.ms).toBe(300_000);
    expect(calls).toEqual([
      {
        ref: arnOf('Evaluator'),
        event: {
          version: '0',
          id: expect.any(String),
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: '000000000000',
          time: '2026-01-02T03:04:05Z',
          region: 'us-east-1',
          resources: [arnOf('Every5Minutes')],
          detail: {},
        },
      },
    ]);
    expect(logs.some((l) => l.includes('Nightly') && l.includes('not supported'))).toBe(true);
  });

  it('stops and restarts the schedules', async () => {
    // Prepare
    const { eb, intervals } = await start();
    // Act
    eb.schedules.stop();
    const stopped = eb.schedules.running;
    eb.schedules.start();
    // Assess
    expect(stopped).toBe(false);
    expect(intervals[0]?.cleared).toBe(true);
    expect(intervals).toHaveLength(2);
    expect(eb.schedules.running).toBe(true);
  });
});

describe('rateToMs', () => {
  it('reads minutes, hours and days and refuses other expressions', () => {
    expect(rateToMs('rate(1 minute)')).toBe(60_000);
    expect(rateToMs('rate(2 hours)')).toBe(7_200_000);
    expect(rateToMs('rate(1 day)')).toBe(86_400_000);
    expect(rateToMs('rate(0 minutes)')).toBeUndefined();
    expect(rateToMs('cron(0 3 * * ? *)')).toBeUndefined();
  });
});
