import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { AttributeType, type Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { ENV } from '../../functions/shared/env-names';
import { TABLE_KEYS } from '../../functions/shared/table-layout';
import type { StageConfig } from '../config';
import { pulseboardTable } from './defaults';
import type { PulseboardHttpApi } from './http-api';
import { NodeFunction } from './node-function';

export interface AlertingProps {
  readonly config: StageConfig;
  readonly api: PulseboardHttpApi;
}

/**
 * Alerting: the rules and silences APIs over one table, and the event bus that will carry
 * `Alert Firing` / `Alert Resolved` events to the correlator (docs/alerting.md).
 */
export class Alerting extends Construct {
  readonly bus: EventBus;
  readonly table: Table;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    const { config, api } = props;
    this.bus = new EventBus(this, 'Bus', { description: 'Pulseboard alert state changes' });
    this.table = pulseboardTable(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE_KEYS.ttl,
      removalPolicy: config.removalPolicy,
    });

    const fn = (construct: string, name: string, description: string) =>
      new NodeFunction(this, construct, {
        name,
        description,
        environment: { [ENV.alertingTable]: this.table.tableName },
        logRetention: config.logRetention,
        logLevel: config.logLevel,
        removalPolicy: config.removalPolicy,
      });

    const rules = fn(
      'Rules',
      'alert-rules',
      '/api/alert-rules: create, read, replace and delete alert rules',
    );
    this.table.grant(rules, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    api.addRoute(HttpMethod.GET, '/api/alert-rules', rules);
    api.addRoute(HttpMethod.POST, '/api/alert-rules', rules);
    for (const method of [HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE]) {
      api.addRoute(method, '/api/alert-rules/{name}', rules);
    }

    const silences = fn('Silences', 'silences', '/api/silences: create, list and expire silences');
    this.table.grant(silences, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem');
    api.addRoute(HttpMethod.GET, '/api/silences', silences);
    api.addRoute(HttpMethod.POST, '/api/silences', silences);
    api.addRoute(HttpMethod.GET, '/api/silences/{id}', silences);
    api.addRoute(HttpMethod.DELETE, '/api/silences/{id}', silences);
  }
}
