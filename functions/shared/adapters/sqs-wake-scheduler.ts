import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WakeScheduler } from '../domain/alerting/stores';

/** SQS's longest message delay. */
export const MAX_DELAY_SECONDS = 900;

/** A wake message: the group to flush and when it is due (epoch ms). */
export interface WakeMessage {
  readonly groupId: string;
  readonly at: number;
}

/** Seconds to delay a message due at `at`, rounded up so it never arrives early, capped at SQS's 15 minutes. */
export function delaySeconds(at: number, now: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((at - now) / 1000)));
}

/**
 * Wakes groups through a delay queue. A wake due beyond 15 minutes arrives early and is sent again
 * for the remainder (see the correlator's queue handler); an early or duplicate wake is harmless.
 */
export class SqsWakeScheduler implements WakeScheduler {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async schedule(groupId: string, at: number): Promise<void> {
    const body: WakeMessage = { groupId, at };
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(body),
        DelaySeconds: delaySeconds(at, this.clock()),
      }),
    );
  }
}
