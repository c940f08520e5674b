import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { AlertTransition } from '../domain/alerting/evaluation';
import type { AlertEventPublisher } from '../domain/alerting/stores';
import { DependencyError } from '../errors';

/** The bus contract the correlator's rule matches (docs/alerting.md). */
export const ALERT_EVENT_SOURCE = 'pulseboard.alerts';
export const ALERT_DETAIL_TYPES = { firing: 'Alert Firing', resolved: 'Alert Resolved' } as const;

const ENTRIES_PER_CALL = 10;
const MAX_ATTEMPTS = 4;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes transitions as `Alert Firing` / `Alert Resolved` events, ten per PutEvents call.
 * Entries PutEvents reports as failed (throttling, internal errors) are retried with backoff;
 * if any still fail, the whole publish throws, so the caller keeps them in its outbox.
 */
export class EventBridgeAlertPublisher implements AlertEventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(transitions: readonly AlertTransition[]): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < transitions.length; start += ENTRIES_PER_CALL) {
      ids.push(...(await this.publishChunk(transitions.slice(start, start + ENTRIES_PER_CALL))));
    }
    return ids;
  }

  private async publishChunk(chunk: readonly AlertTransition[]): Promise<string[]> {
    const ids: (string | undefined)[] = chunk.map(() => undefined);
    let pending = chunk.map((_, index) => index);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS) {
        throw new DependencyError(
          `EventBridge refused ${pending.length} alert event(s) ${MAX_ATTEMPTS} times`,
        );
      }
      if (attempt > 1) await pause(Math.random() * 50 * 2 ** attempt);
      const { Entries = [] } = await this.client.send(
        new PutEventsCommand({
          Entries: pending.map((index) => {
            const transition = chunk[index] as AlertTransition;
            return {
              EventBusName: this.busName,
              Source: ALERT_EVENT_SOURCE,
              DetailType: ALERT_DETAIL_TYPES[transition.status],
              Detail: JSON.stringify(transition),
            };
          }),
        }),
      );
      pending = pending.filter((index, position) => {
        const id = Entries[position]?.EventId;
        if (id) ids[index] = id;
        return !id;
      });
    }
    return ids as string[];
  }
}
