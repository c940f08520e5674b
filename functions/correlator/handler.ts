import { SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent, SQSEvent } from 'aws-lambda';
import { correlatorFromEnv } from '../shared/adapters/alerting-wiring';
import { documentClient } from '../shared/adapters/clients';
import { SqsWakeScheduler } from '../shared/adapters/sqs-wake-scheduler';
import { readEnv } from '../shared/env';
import { ENV } from '../shared/env-names';
import { eventHandler } from '../shared/handler-kit';
import { logger } from '../shared/logger';
import { handleAlertEvent, handleWakes } from './correlator';

const env = readEnv([ENV.wakeQueueUrl]);
const correlator = correlatorFromEnv(documentClient());
const scheduler = new SqsWakeScheduler(new SQSClient({}), env.WAKE_QUEUE_URL);

/**
 * The correlator: alert events from the bus (one per invocation, asynchronous), and group wakes
 * from the delay queue (SQS batches, partial failures reported).
 */
export const handler = eventHandler(async (event: EventBridgeEvent<string, unknown> | SQSEvent) => {
  if ('Records' in event) {
    return handleWakes(event.Records, {
      correlator,
      reschedule: (groupId, at) => scheduler.schedule(groupId, at),
      clock: Date.now,
      onError: (message, detail) => logger.error(message, detail),
    });
  }
  const result = await handleAlertEvent(event.detail, correlator, (error) =>
    logger.error('Malformed alert event dropped', { eventId: event.id, issues: error.issues }),
  );
  logger.info('Alert event correlated', { eventId: event.id, groups: result.groupIds.length });
  return result;
});
