import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULT_ROUTING } from '../functions/shared/alerting/routing';
import type { RoutingConfig } from '../functions/shared/domain/alerting/stores';
import type { AlertmanagerConfig, ReceiverSubscription } from './alertmanager-config';

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

/** Everything that differs between stages, in one typed table. */
export interface StageConfig {
  readonly stage: Stage;
  /** What happens to stateful resources (tables, buckets) when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: RetentionDays;
  /**
   * Retention per resolution (DynamoDB TTL in epoch seconds, counted from the end of each block):
   * raw 10-minute blocks, hours of 1-minute rollups, and 1-hour rollups. Queries never pick a
   * resolution whose retention no longer covers the range.
   */
  readonly retention: {
    readonly raw: Duration;
    readonly minuteRollups: Duration;
    readonly hourRollups: Duration;
  };
  /** API Gateway stage throttling: steady requests/s and burst. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Origins allowed by CORS besides the dashboard's own CloudFront origin. */
  readonly extraAllowedOrigins: readonly string[];
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly alerting: {
    /** How often the scheduled evaluation runs (absence rules, stopped data, `for` on quiet series). */
    readonly evaluationInterval: Duration;
    /**
     * The routing tree and inhibition rules (alertmanager.yml's `route` and `inhibit_rules`) until
     * one is set at run time with `PUT /api/alert-routing`. Validated at synth.
     */
    readonly routing: RoutingConfig;
  };
  /** Subscriptions to the notifications topic. Each email address must confirm once. */
  readonly notifications: {
    readonly emails: readonly string[];
    /** HTTPS endpoints receive Alertmanager's webhook payload in the SNS envelope (raw delivery off). */
    readonly httpsEndpoints: readonly string[];
    /** Per-receiver subscriptions from an alertmanager.yml (`-c alertmanagerConfig=<file>`). */
    readonly receivers?: readonly ReceiverSubscription[];
  };
}

export const STAGE_CONFIG: Readonly<Record<Stage, StageConfig>> = {
  dev: {
    stage: 'dev',
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: RetentionDays.ONE_WEEK,
    retention: { raw: Duration.days(2), minuteRollups: Duration.days(7), hourRollups: Duration.days(90) },
    throttle: { rateLimit: 200, burstLimit: 400 },
    extraAllowedOrigins: ['http://localhost:5173'],
    logLevel: 'DEBUG',
    alerting: { evaluationInterval: Duration.minutes(1), routing: DEFAULT_ROUTING },
    notifications: { emails: [], httpsEndpoints: [] },
  },
  prod: {
    stage: 'prod',
    removalPolicy: RemovalPolicy.RETAIN,
    logRetention: RetentionDays.THREE_MONTHS,
    retention: { raw: Duration.days(7), minuteRollups: Duration.days(30), hourRollups: Duration.days(400) },
    throttle: { rateLimit: 1000, burstLimit: 2000 },
    extraAllowedOrigins: [],
    logLevel: 'INFO',
    alerting: { evaluationInterval: Duration.minutes(1), routing: DEFAULT_ROUTING },
    notifications: { emails: [], httpsEndpoints: [] },
  },
};

/** Validates the `-c stage=…` context value. */
export function stageConfig(stage: unknown): StageConfig {
  if (typeof stage !== 'string' || !(STAGES as readonly string[]).includes(stage)) {
    throw new Error(`Unknown stage ${JSON.stringify(stage)}: pass -c stage=${STAGES.join('|')}`);
  }
  return STAGE_CONFIG[stage as Stage];
}

/**
 * The stage with an alertmanager.yml loaded: its routing becomes the stage's default routing and
 * its receivers become filtered subscriptions to the notifications topic.
 */
export function withAlertmanagerConfig(config: StageConfig, loaded: AlertmanagerConfig): StageConfig {
  return {
    ...config,
    alerting: { ...config.alerting, routing: loaded.routing },
    notifications: { ...config.notifications, receivers: loaded.subscriptions },
  };
}

/** The stack name for a stage; the local runtime and cdk-outputs files use the same name. */
export const stackName = (stage: Stage) => `Pulseboard-${stage}`;
