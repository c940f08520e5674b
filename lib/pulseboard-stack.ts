import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Construct } from 'constructs';
import type { StageConfig } from './config';
import { Alerting } from './constructs/alerting';
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
    const metrics = new MetricsStore(this, 'Metrics', { config });
    const live = new LiveUpdates(this, 'Live', { config });
    const http = new PulseboardHttpApi(this, 'Http', {
      config,
      metrics,
      allowedOrigins: [site.url, ...config.extraAllowedOrigins],
    });
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
  }
}
