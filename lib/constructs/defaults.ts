import type { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { type IAccessLogSettings, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { type Attribute, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';

export interface PulseboardTableProps {
  readonly partitionKey: Attribute;
  readonly sortKey?: Attribute;
  /** The TTL attribute, always epoch seconds. */
  readonly timeToLiveAttribute: string;
  readonly removalPolicy: RemovalPolicy;
}

/** A table with Pulseboard's defaults: on demand, AWS-managed encryption, point-in-time recovery. */
export function pulseboardTable(scope: Construct, id: string, props: PulseboardTableProps): Table {
  return new Table(scope, id, {
    ...props,
    billingMode: BillingMode.PAY_PER_REQUEST,
    encryption: TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
}

/**
 * Access logging for an API stage: its own log group with the stage's retention, one JSON object
 * per request made of the given `$context` fields.
 */
export function apiAccessLogs(
  scope: Construct,
  config: StageConfig,
  fields: Readonly<Record<string, string>>,
): IAccessLogSettings {
  const logGroup = new LogGroup(scope, 'AccessLogs', {
    retention: config.logRetention,
    removalPolicy: config.removalPolicy,
  });
  return {
    destination: new LogGroupLogDestination(logGroup),
    format: AccessLogFormat.custom(JSON.stringify({ requestId: '$context.requestId', ...fields })),
  };
}
