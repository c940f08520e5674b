import { Duration, Validations } from 'aws-cdk-lib';
import {
  type CfnStage,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../functions/shared/env-names';
import type { StageConfig } from '../config';
import { apiAccessLogs } from './defaults';
import type { MetricsStore } from './metrics-store';
import { NodeFunction } from './node-function';

export interface PulseboardHttpApiProps {
  readonly config: StageConfig;
  readonly metrics: MetricsStore;
  /** Browser origins allowed by CORS: the dashboard's, plus the stage's extras. */
  readonly allowedOrigins: readonly string[];
  /** Every route uses it unless added as public. */
  readonly authorizer: IHttpRouteAuthorizer;
}

/** Login attempts per second across the API: a brute force hits this before the per-user lockout. */
const LOGIN_THROTTLE = { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } as const;

/** The HTTP API: its stage, CORS and throttling, and the routes other capabilities add to it. */
export class PulseboardHttpApi extends Construct {
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: PulseboardHttpApiProps) {
    super(scope, id);
    const { config } = props;

    this.api = new HttpApi(this, 'Api', {
      description: 'Pulseboard HTTP API',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [...props.allowedOrigins],
        allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.PUT, CorsHttpMethod.DELETE],
        allowHeaders: ['content-type', 'authorization', 'idempotency-key'],
        // The login form tells the user how long a lockout lasts.
        exposeHeaders: ['retry-after'],
        maxAge: Duration.hours(1),
      },
      defaultAuthorizer: props.authorizer,
    });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: config.throttle,
      accessLogSettings: apiAccessLogs(this, config, {
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
      }),
    });
    (stage.node.defaultChild as CfnStage).routeSettings = { 'POST /auth/login': LOGIN_THROTTLE };

    const systemMetrics = new NodeFunction(this, 'SystemMetrics', {
      name: 'system-metrics',
      description: 'GET /api/dashboard/system-metrics: the latest host snapshot',
      environment: { [ENV.metricsTable]: props.metrics.table.tableName },
      logRetention: config.logRetention,
      logLevel: config.logLevel,
      removalPolicy: config.removalPolicy,
    });
    props.metrics.grantSnapshotRead(systemMetrics);
    this.addRoute(HttpMethod.GET, '/api/dashboard/system-metrics', systemMetrics);
  }

  /** The API's base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com */
  get url(): string {
    return this.api.apiEndpoint;
  }

  /**
   * Routes one method and path to a function (payload format 2.0), behind the authorizer unless
   * `public` (login, health, the JWKS).
   */
  addRoute(method: HttpMethod, path: string, fn: IFunction, options: { public?: boolean } = {}): void {
    const [route] = this.api.addRoutes({
      path,
      methods: [method],
      integration: this.integrationFor(fn),
      ...(options.public ? { authorizer: new HttpNoneAuthorizer() } : {}),
    });
    if (options.public && route) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: `${method} ${path} must answer without a token: it is how a client gets one, or checks health.`,
      });
    }
  }

  /** One integration per function, shared by all of its routes. */
  private integrationFor(fn: IFunction): HttpLambdaIntegration {
    let integration = this.integrations.get(fn);
    if (!integration) {
      integration = new HttpLambdaIntegration(`${fn.node.id}Integration`, fn);
      this.integrations.set(fn, integration);
    }
    return integration;
  }

  private readonly integrations = new Map<IFunction, HttpLambdaIntegration>();
}
