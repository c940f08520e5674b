import type { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../../functions/shared/table-layout';

export interface MetricsStoreProps {
  readonly removalPolicy: RemovalPolicy;
}

/** The metrics table: datapoints by series and time, and the latest snapshot of each host. */
export class MetricsStore extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: MetricsStoreProps) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE_KEYS.ttl,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
    });
  }

  /** Writing datapoints and merging host snapshots. */
  grantIngest(grantee: IGrantable): void {
    this.table.grant(grantee, 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem');
  }

  /** Reading snapshots and series. */
  grantQuery(grantee: IGrantable): void {
    this.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:Query');
  }
}
