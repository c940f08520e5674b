import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { AttributeType, type Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ENV } from '../../functions/shared/env-names';
import type { StageConfig } from '../config';
import { pulseboardTable } from './defaults';
import type { PulseboardHttpApi } from './http-api';
import type { LiveUpdates } from './live-updates';
import type { MetricsStore } from './metrics-store';
import { NodeFunction } from './node-function';

export interface IngestionProps {
  readonly config: StageConfig;
  readonly api: PulseboardHttpApi;
  readonly metrics: MetricsStore;
  readonly live: LiveUpdates;
}

/**
 * Metric ingestion: one function behind the native (`POST /api/metrics`) and OTLP/HTTP
 * (`POST /v1/metrics`) routes, with a table that remembers Idempotency-Keys for a day.
 */
export class Ingestion extends Construct {
  readonly function: NodeFunction;
  readonly idempotencyTable: Table;

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    const { config } = props;

    // Powertools idempotency's own layout: `id` key, `expiration` TTL (epoch seconds).
    this.idempotencyTable = pulseboardTable(this, 'IdempotencyKeys', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      removalPolicy: config.removalPolicy,
    });

    this.function = new NodeFunction(this, 'Ingest', {
      name: 'ingest',
      description: 'POST /api/metrics and /v1/metrics: store datapoints, update snapshots, broadcast',
      environment: {
        [ENV.metricsTable]: props.metrics.table.tableName,
        [ENV.idempotencyTable]: this.idempotencyTable.tableName,
      },
      logRetention: config.logRetention,
      logLevel: config.logLevel,
      removalPolicy: config.removalPolicy,
    });
    props.metrics.grantIngest(this.function);
    props.live.grantBroadcast(this.function);
    this.idempotencyTable.grant(
      this.function,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );

    props.api.addRoute(HttpMethod.POST, '/api/metrics', this.function);
    props.api.addRoute(HttpMethod.POST, '/v1/metrics', this.function);
  }
}
