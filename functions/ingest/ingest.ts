import { type Envelope, envelope, SYSTEM_METRICS_CHANNEL } from '../shared/domain/messages';
import { parseMetricBatch } from '../shared/domain/metrics';
import { snapshotUpdates } from '../shared/domain/system-metrics';
import type { Clock, MetricsStore } from '../shared/ports';

export interface IngestDeps {
  readonly store: MetricsStore;
  readonly clock: Clock;
  /** Pushes a message to a channel's subscribers. A failure here never un-accepts stored points. */
  readonly publish: (channel: string, message: Envelope) => Promise<void>;
  readonly onPublishError?: (error: unknown) => void;
}

export interface IngestResult {
  readonly accepted: number;
}

/**
 * Validates a batch, stores every point, merges system metrics into their host snapshots and
 * broadcasts each changed snapshot on the `system_metrics` channel.
 */
export async function ingestBatch(body: unknown, deps: IngestDeps): Promise<IngestResult> {
  const points = parseMetricBatch(body, deps.clock());
  await deps.store.putPoints(points);
  for (const update of snapshotUpdates(points)) {
    const snapshot = await deps.store.mergeSnapshot(update);
    if (!snapshot) continue;
    try {
      await deps.publish(SYSTEM_METRICS_CHANNEL, envelope('system_metrics', snapshot));
    } catch (error) {
      deps.onPublishError?.(error);
    }
  }
  return { accepted: points.length };
}
