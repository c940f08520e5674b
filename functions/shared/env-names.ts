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
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
