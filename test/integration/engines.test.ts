import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTablesFromTemplate, type DynamoDbLocal, startDynamoDbLocal } from '../../local/dynamodb-local';
import { createResolver } from '../../local/intrinsics';
import { type LocalSns, startSns } from '../../local/sns';
import type { CfnTemplate } from '../../local/types';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';
const suffix = `${process.pid}-${Date.now()}`;

const template: CfnTemplate = {
  Resources: {
    Series: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: { 'Fn::Sub': `series-${suffix}` },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'gsi1pk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byMetric',
            KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
    },
    Connections: {
      Type: 'AWS::DynamoDB::GlobalTable',
      Properties: {
        KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'connectionId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [{ Region: region }],
      },
    },
    Notifications: { Type: 'AWS::SNS::Topic', Properties: { TopicName: `notifications-${suffix}` } },
    Inbox: { Type: 'AWS::SQS::Queue', Properties: {} },
    CriticalOnly: { Type: 'AWS::SQS::Queue', Properties: {} },
    InboxSub: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        Protocol: 'sqs',
        TopicArn: { Ref: 'Notifications' },
        Endpoint: { 'Fn::GetAtt': ['Inbox', 'Arn'] },
        RawMessageDelivery: true,
      },
    },
    CriticalSub: {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        Protocol: 'sqs',
        TopicArn: { Ref: 'Notifications' },
        Endpoint: { 'Fn::GetAtt': ['CriticalOnly', 'Arn'] },
        FilterPolicy: { severity: ['critical'] },
      },
    },
    EmailSub: {
      Type: 'AWS::SNS::Subscription',
      Properties: { Protocol: 'email', TopicArn: { Ref: 'Notifications' }, Endpoint: 'oncall@example.com' },
    },
  },
};

describe('DynamoDB Local', () => {
  let ddbLocal: DynamoDbLocal;
  let ddb: DynamoDBClient;
  const resolver = createResolver({ template, stackName: 'Engines' });

  beforeAll(async () => {
    ddbLocal = await startDynamoDbLocal();
    ddb = new DynamoDBClient({ endpoint: ddbLocal.endpoint, region, credentials });
  });

  afterAll(async () => {
    ddb?.destroy();
    await ddbLocal?.stop();
  });

  it('creates the template tables with their GSI, stream and TTL, and tolerates a second run', async () => {
    // Act
    const names = await createTablesFromTemplate(ddbLocal.endpoint, template, resolver);
    const again = await createTablesFromTemplate(ddbLocal.endpoint, template, resolver);
    // Assess
    expect(names).toEqual([`series-${suffix}`, 'Connections']);
    expect(again).toEqual(names);
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: `series-${suffix}` }));
    expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['byMetric']);
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: `series-${suffix}` }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: 'expiresAt',
    });
  });

  it('stores and reads items in a created table', async () => {
    // Prepare
    await createTablesFromTemplate(ddbLocal.endpoint, template, resolver);
    const Key = { connectionId: { S: `c-${suffix}` } };
    // Act
    await ddb.send(new PutItemCommand({ TableName: 'Connections', Item: { ...Key, userId: { S: 'u1' } } }));
    const { Item } = await ddb.send(new GetItemCommand({ TableName: 'Connections', Key }));
    // Assess
    expect(Item?.userId).toEqual({ S: 'u1' });
  });
});

describe('fauxqs SNS and SQS', () => {
  let sns: LocalSns;
  let snsClient: SNSClient;
  let sqsClient: SQSClient;
  const logs: string[] = [];

  beforeAll(async () => {
    sns = await startSns({
      template,
      resolver: createResolver({ template, stackName: 'Engines' }),
      log: (l) => logs.push(l),
    });
    snsClient = new SNSClient({ endpoint: sns.endpoint, region, credentials });
    sqsClient = new SQSClient({ endpoint: sns.endpoint, region, credentials });
  });

  afterAll(async () => {
    snsClient?.destroy();
    sqsClient?.destroy();
    await sns?.stop();
  });

  async function receiveOne(queueUrl: string): Promise<{ Body?: string } | undefined> {
    const out = await sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2, MaxNumberOfMessages: 1 }),
    );
    return out.Messages?.[0];
  }

  it('delivers a published message to a subscribed queue, raw, and honours the filter policy', async () => {
    // Prepare
    const resolver = createResolver({ template, stackName: 'Engines', overrides: sns.overrides });
    const topicArn = resolver.resolveString({ Ref: 'Notifications' });
    const inboxUrl = resolver.resolveString({ Ref: 'Inbox' });
    const criticalUrl = resolver.resolveString({ Ref: 'CriticalOnly' });
    // Act
    await snsClient.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify({ incident: 'i-1' }),
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'warning' } },
      }),
    );
    await snsClient.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify({ incident: 'i-2' }),
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'critical' } },
      }),
    );
    const inbox = [await receiveOne(inboxUrl), await receiveOne(inboxUrl)];
    const critical = await receiveOne(criticalUrl);
    // Assess
    expect(inboxUrl).toBe(sns.queueUrls.Inbox);
    expect(inbox.map((m) => JSON.parse(m?.Body ?? '{}').incident).sort()).toEqual(['i-1', 'i-2']);
    const envelope = JSON.parse(critical?.Body ?? '{}');
    expect(envelope).toMatchObject({ Type: 'Notification', TopicArn: topicArn });
    expect(JSON.parse(envelope.Message)).toEqual({ incident: 'i-2' });
  });

  it('logs subscriptions it cannot deliver locally', () => {
    expect(logs).toEqual([
      expect.stringMatching(/EmailSub \(email → oncall@example.com\) is not delivered locally/),
    ]);
  });
});
