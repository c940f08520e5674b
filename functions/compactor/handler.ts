import type { ScheduledEvent } from 'aws-lambda';
import { documentClient } from '../shared/adapters/clients';
import { DynamoMetricsStore, retentionFromEnv } from '../shared/adapters/dynamo-metrics-store';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { eventHandler } from '../shared/handler-kit';
import { logger } from '../shared/logger';
import { type CompactionResult, compact } from './compactor';

const env = readEnv([ENV.metricsTable]);
const retention = retentionFromEnv();
const client = documentClient();

/**
 * EventBridge schedule, every minute: compacts closed arrival minutes into blocks and rollups.
 * "Now" is the scheduled event's `time`, so a run is deterministic and replayable.
 */
export const handler = eventHandler(async (event: Partial<ScheduledEvent>): Promise<CompactionResult> => {
  const scheduled = event.time ? Date.parse(event.time) : Number.NaN;
  const now = Number.isFinite(scheduled) ? scheduled : Date.now();
  const store = new DynamoMetricsStore(client, env.METRICS_TABLE, { retention, clock: () => now });
  const result = await compact(now, store);
  logger.info('Compaction done', { ...result });
  return result;
});
