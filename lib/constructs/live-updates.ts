import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { type IWebSocketRouteAuthorizer, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, ProjectionType, type Table } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import { ENV } from '../../functions/shared/env-names';
import { CHANNEL_INDEX, TABLE_KEYS } from '../../functions/shared/table-layout';
import type { StageConfig } from '../config';
import { apiAccessLogs, pulseboardTable } from './defaults';
import { NodeFunction } from './node-function';

export interface LiveUpdatesProps {
  readonly config: StageConfig;
  /** Admits connections: `$connect` runs it; every later route runs on an admitted connection. */
  readonly authorizer: IWebSocketRouteAuthorizer;
}

/**
 * The WebSocket API and its connection registry: $connect / $disconnect, subscribe / unsubscribe,
 * and the grants a function needs to broadcast to subscribers.
 */
export class LiveUpdates extends Construct {
  readonly connectionsTable: Table;
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;

  constructor(scope: Construct, id: string, props: LiveUpdatesProps) {
    super(scope, id);
    const { config } = props;

    this.connectionsTable = pulseboardTable(this, 'Connections', {
      partitionKey: { name: TABLE_KEYS.partition, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sort, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE_KEYS.ttl,
      removalPolicy: config.removalPolicy,
    });
    // Sparse: only subscription items carry the index key, so a broadcast reads just its audience
    // (`metrics:cpu_usage` for every cpu_usage channel, whatever its label matchers). KEYS_ONLY is
    // enough: the projected table sort key `SUB#<full channel>` carries the matchers, so nothing is
    // stored twice, and the index definition (whose projection cannot change in place) is unchanged.
    this.connectionsTable.addGlobalSecondaryIndex({
      indexName: CHANNEL_INDEX.name,
      partitionKey: { name: CHANNEL_INDEX.partition, type: AttributeType.STRING },
      sortKey: { name: CHANNEL_INDEX.sort, type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });

    const fn = (name: string, description: string) =>
      new NodeFunction(this, name, {
        name: kebab(name),
        description,
        environment: { [ENV.connectionsTable]: this.connectionsTable.tableName },
        logRetention: config.logRetention,
        logLevel: config.logLevel,
        removalPolicy: config.removalPolicy,
      });
    const connect = fn('WsConnect', 'WebSocket $connect: registers the connection');
    const disconnect = fn('WsDisconnect', 'WebSocket $disconnect: forgets the connection');
    const subscriptions = fn('WsSubscriptions', 'WebSocket subscribe / unsubscribe / ping / $default');
    this.grantTable(connect, 'dynamodb:BatchWriteItem');
    this.grantTable(disconnect, 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    // Query: counting the connection's own subscriptions against the per-connection cap.
    this.grantTable(subscriptions, 'dynamodb:Query', 'dynamodb:BatchWriteItem');

    this.api = new WebSocketApi(this, 'Api', {
      description: 'Pulseboard live updates',
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('ConnectIntegration', connect),
        authorizer: props.authorizer,
      },
      disconnectRouteOptions: {
        integration: new WebSocketLambdaIntegration('DisconnectIntegration', disconnect),
      },
      defaultRouteOptions: {
        integration: new WebSocketLambdaIntegration('FallbackIntegration', subscriptions),
        returnResponse: true,
      },
    });
    for (const action of ['subscribe', 'unsubscribe', 'ping']) {
      this.api.addRoute(action, {
        integration: new WebSocketLambdaIntegration(`${action}Integration`, subscriptions),
        returnResponse: true,
      });
    }

    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: config.stage,
      autoDeploy: true,
      throttle: config.throttle,
      accessLogSettings: apiAccessLogs(this, config, {
        connectionId: '$context.connectionId',
        routeKey: '$context.routeKey',
        eventType: '$context.eventType',
        status: '$context.status',
        integrationError: '$context.integrationErrorMessage',
      }),
    });

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'WebSocket authorizers can only be attached to $connect (AWS limitation); $disconnect, $default and ' +
        'message routes run on a connection the $connect authorizer admitted.',
    });
  }

  /** Table actions on the table itself; Table.grant would also allow every index (`/index/*`). */
  private grantTable(grantee: IGrantable, ...actions: string[]): void {
    Grant.addToPrincipal({ grantee, actions, resourceArns: [this.connectionsTable.tableArn] });
  }

  /** The `@connections` callback URL of the stage. */
  get callbackUrl(): string {
    return this.stage.callbackUrl;
  }

  /** Everything a function needs to broadcast: find subscribers, forget gone ones, post to them. */
  grantBroadcast(fn: NodeFunction): void {
    this.grantTable(fn, 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:Query'],
      resourceArns: [`${this.connectionsTable.tableArn}/index/${CHANNEL_INDEX.name}`],
    });
    this.stage.grantManagementApiAccess(fn);
    // The finding sits on the role's policy, not on the function.
    Validations.of(fn.role as IConstruct).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalIdOf(this.api)}>/${this.stage.stageName}/*/@connections/*]`,
      reason:
        'PostToConnection targets connection ids that exist only at run time; the grant is scoped to this API and stage.',
    });
    fn.addEnvironment(ENV.connectionsTable, this.connectionsTable.tableName);
    fn.addEnvironment(ENV.websocketCallbackUrl, this.callbackUrl);
  }
}

/** A construct's CloudFormation logical id as a literal, as cdk-nag prints it in finding ids. */
const logicalIdOf = (construct: Construct): string =>
  Stack.of(construct).resolve((construct.node.defaultChild as CfnElement).logicalId) as string;

const kebab = (name: string) => name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
