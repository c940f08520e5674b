import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Construct } from 'constructs';
import type { StageConfig } from './config';
import { Alerting } from './constructs/alerting';
import { Auth } from './constructs/auth';
import { DashboardSite } from './constructs/dashboard-site';
import { PulseboardHttpApi } from './constructs/http-api';
import { Ingestion } from './constructs/ingestion';
import { LiveUpdates } from './constructs/live-updates';
import { MetricsStore } from './constructs/metrics-store';
import { Notifications } from './constructs/notifications';

export interface PulseboardStackProps extends StackProps {
  readonly config: StageConfig;
  /** The built dashboard (web/dist). */
  readonly dashboardAssetDir: string;
}

/** Composes Pulseboard's capabilities; declares no raw resources of its own. */
export class PulseboardStack extends Stack {
  constructor(scope: Construct, id: string, props: PulseboardStackProps) {
    super(scope, id, props);
    const { config } = props;

    const site = new DashboardSite(this, 'Dashboard', {
      assetDir: props.dashboardAssetDir,
      removalPolicy: config.removalPolicy,
    });
    const auth = new Auth(this, 'Auth', { config, issuer: `pulseboard:${this.stackName}` });
    const metrics = new MetricsStore(this, 'Metrics', { config });
    const live = new LiveUpdates(this, 'Live', { config, authorizer: auth.webSocketAuthorizer });
    const http = new PulseboardHttpApi(this, 'Http', {
      config,
      metrics,
      allowedOrigins: [site.url, ...config.extraAllowedOrigins],
      authorizer: auth.httpAuthorizer,
    });
    auth.addRoutes(http);
    const ingestion = new Ingestion(this, 'Ingestion', { config, api: http, metrics, live });
    for (const path of ['/api/metrics/query', '/api/metrics/names', '/api/metrics/labels/{label}/values']) {
      http.addRoute(HttpMethod.GET, path, metrics.queryFunction);
    }
    const notifications = new Notifications(this, 'Notifications', { config });
    const alerting = new Alerting(this, 'Alerting', {
      config,
      api: http,
      live,
      topic: notifications.topic,
      dashboardUrl: site.url,
    });
    alerting.grantEvaluation(ingestion.function);

    site.publish({ httpApiUrl: http.url, webSocketUrl: live.stage.url });

    new CfnOutput(this, 'HttpApiUrl', { value: http.url, description: 'HTTP API base URL' });
    new CfnOutput(this, 'WebSocketUrl', { value: live.stage.url, description: 'WebSocket API URL' });
    new CfnOutput(this, 'DashboardUrl', { value: site.url, description: 'Dashboard URL' });
    new CfnOutput(this, 'AuthTableName', {
      value: auth.table.tableName,
      description: 'Users and API keys (npm run users:create writes the first admin here)',
    });
    new CfnOutput(this, 'SigningSeedArn', {
      value: auth.signingSeed.secretArn,
      description: 'The secret seeding the token signing key (rotate with put-secret-value)',
    });
  }
}
