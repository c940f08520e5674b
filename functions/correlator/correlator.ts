import type { WakeMessage } from '../shared/adapters/sqs-wake-scheduler';
import type { CorrelatorService } from '../shared/alerting/correlator-service';
import { ValidationError } from '../shared/errors';
import type { Clock } from '../shared/ports';

/** The part of an SQS record a wake needs. */
export interface WakeRecord {
  readonly messageId: string;
  readonly body: string;
}

export interface WakeDeps {
  readonly correlator: Pick<CorrelatorService, 'onWake'>;
  /** Sends the wake again: for one due beyond SQS's 15-minute delay limit. */
  readonly reschedule: (groupId: string, at: number) => Promise<void>;
  readonly clock: Clock;
  readonly onError: (message: string, detail: Record<string, unknown>) => void;
}

/**
 * Handles one batch of wake messages. A wake that is still not due (its delay was capped at 15
 * minutes) is sent again for the rest; a malformed one is dropped with an error log, as retrying it
 * cannot help; a failed wake is reported back so SQS redelivers that message alone.
 */
export async function handleWakes(
  records: readonly WakeRecord[],
  deps: WakeDeps,
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const failures: { itemIdentifier: string }[] = [];
  for (const record of records) {
    const wake = parseWake(record.body);
    if (!wake) {
      deps.onError('Malformed wake message dropped', {
        messageId: record.messageId,
        body: record.body.slice(0, 200),
      });
      continue;
    }
    try {
      if (wake.at > deps.clock()) await deps.reschedule(wake.groupId, wake.at);
      else await deps.correlator.onWake(wake.groupId);
    } catch (error) {
      deps.onError('Wake failed; SQS will redeliver it', { messageId: record.messageId, error });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}

function parseWake(body: string): WakeMessage | undefined {
  try {
    const value = JSON.parse(body) as Partial<WakeMessage>;
    return typeof value.groupId === 'string' && typeof value.at === 'number' && Number.isFinite(value.at)
      ? { groupId: value.groupId, at: value.at }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Handles one `Alert Firing`/`Alert Resolved` event. A malformed detail is logged and dropped: a
 * retry cannot fix it. Anything else that fails throws, so Lambda's async retries and then the
 * on-failure queue keep the event.
 */
export async function handleAlertEvent(
  detail: unknown,
  correlator: Pick<CorrelatorService, 'onAlertEvent'>,
  onInvalid: (error: ValidationError) => void,
): Promise<{ groupIds: string[] }> {
  try {
    return await correlator.onAlertEvent(detail);
  } catch (error) {
    if (error instanceof ValidationError) {
      onInvalid(error);
      return { groupIds: [] };
    }
    throw error;
  }
}
