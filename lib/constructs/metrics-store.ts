import { Duration } from 'aws-cdk-lib';
import { AttributeType, type Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../functions/shared/env-names';
import { TABLE_KEYS } from '../../functions/shared/table-layout';
import type { StageConfig } from '../config';
import { pulseboardTable } from './defaults';
import { NodeFunction } from './node-function';

export interface MetricsStoreProps {
  /** Retention per resolution, log settings and the removal policy come from the stage. */
  readonly config: StageConfig;
}

/**
 * The metrics table (segments, blocks, rollups, series index, host snapshots), the compactor that
 * turns segments into blocks every minute, and the query function behind the metric query routes.
 * See docs/storage.md.
 */
export class MetricsStore extends Construct {
  readonly table: Table;
  readonly compactor: NodeFunction;
  /** Serves GET /api/metrics/query, /api/metrics/names and /api/metrics/labels/{label}/values. */
  readonly queryFunction: NodeFunction;

  constructor(scope: Construct, id: string, props: MetricsStoreProps) {
    super(scope, id);
    const { config } = props;
    this.table = pulseboardTable(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE_KEYS.ttl,
      removalPolicy: config.removalPolicy,
    });

    const environment = {
      [ENV.metricsTable]: this.table.tableName,
      [ENV.rawRetentionSeconds]: String(config.retention.raw.toSeconds()),
      [ENV.minuteRollupRetentionSeconds]: String(config.retention.minuteRollups.toSeconds()),
      [ENV.hourRollupRetentionSeconds]: String(config.retention.hourRollups.toSeconds()),
    };
    const common = {
      environment,
      logRetention: config.logRetention,
      logLevel: config.logLevel,
      removalPolicy: config.removalPolicy,
    };

    this.compactor = new NodeFunction(this, 'Compactor', {
      ...common,
      name: 'compactor',
      description: 'Every minute: compacts closed arrival minutes of segments into blocks and rollups',
      timeout: Duration.minutes(2),
      memorySize: 1024,
    });
    // One run at a time: its read-modify-write of blocks and the watermark assume no concurrent run.
    (this.compactor.node.defaultChild as CfnFunction).reservedConcurrentExecutions = 1;
    // A failed run is simply redone by the next minute's run (blocks remember what they merged).
    this.compactor.configureAsyncInvoke({ retryAttempts: 0 });
    new Rule(this, 'CompactorSchedule', {
      description: 'Runs the metrics compactor every minute',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.compactor)],
    });
    this.grantTable(
      this.compactor,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
    );

    this.queryFunction = new NodeFunction(this, 'Query', {
      ...common,
      name: 'metrics-query',
      description: 'GET /api/metrics/query, /names, /labels/{label}/values: metric queries and pickers',
      memorySize: 1024,
    });
    this.grantQuery(this.queryFunction);
  }

  /** Table actions on the table itself (the table has no indexes to grant). */
  private grantTable(grantee: IGrantable, ...actions: string[]): void {
    Grant.addToPrincipal({ grantee, actions, resourceArns: [this.table.tableArn] });
  }

  /** Writing segments, indexing new series (a transaction of Put + Update), merging snapshots. */
  grantIngest(grantee: IGrantable): void {
    this.grantTable(grantee, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
  }

  /** Reading snapshots, the series index and blocks. */
  grantQuery(grantee: IGrantable): void {
    this.grantTable(grantee, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem');
  }

  /** Reading host snapshots only: one item, or the snapshot partition. */
  grantSnapshotRead(grantee: IGrantable): void {
    this.grantTable(grantee, 'dynamodb:GetItem', 'dynamodb:Query');
  }
}
