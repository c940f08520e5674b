/**
 * Environment variable names: the one source of truth shared by the CDK constructs that set
 * them and the functions that read them (through env.ts).
 */
export const ENV = {
  connectionsTable: 'CONNECTIONS_TABLE',
  metricsTable: 'METRICS_TABLE',
  alertingTable: 'ALERTING_TABLE',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  websocketCallbackUrl: 'WEBSOCKET_CALLBACK_URL',
  rawRetentionSeconds: 'RAW_RETENTION_SECONDS',
  minuteRollupRetentionSeconds: 'MINUTE_ROLLUP_RETENTION_SECONDS',
  hourRollupRetentionSeconds: 'HOUR_ROLLUP_RETENTION_SECONDS',
  alertBusName: 'ALERT_BUS_NAME',
  notificationTopicArn: 'NOTIFICATION_TOPIC_ARN',
  wakeQueueUrl: 'WAKE_QUEUE_URL',
  /** The stage's default routing (alertmanager.yml subset, JSON), used until one is set at run time. */
  defaultRouting: 'DEFAULT_ALERT_ROUTING',
  /** The dashboard's URL: Alertmanager's externalURL in notifications. */
  dashboardUrl: 'DASHBOARD_URL',
  authTable: 'AUTH_TABLE',
  /** The secret whose value seeds the token signing key (Secrets Manager ARN). */
  signingSecretArn: 'SIGNING_SECRET_ARN',
  /** The `iss` of Pulseboard tokens: `pulseboard:<stack name>`. */
  tokenIssuer: 'TOKEN_ISSUER',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
