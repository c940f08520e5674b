import {
  MAX_SERIES_PER_METRIC,
  type RawDatapoint,
  type Rejection,
  validateDatapoints,
} from '../shared/domain/ingest';
import { type Envelope, envelope, SYSTEM_METRICS_CHANNEL } from '../shared/domain/messages';
import type { Datapoint } from '../shared/domain/metrics';
import { snapshotUpdates } from '../shared/domain/system-metrics';
import { PulseboardError } from '../shared/errors';
import type { Clock, MetricsStore } from '../shared/ports';

export interface IngestDeps {
  readonly store: MetricsStore;
  readonly clock: Clock;
  /** Pushes a message to a plain channel's subscribers (`system_metrics`). */
  readonly publish: (channel: string, message: Envelope) => Promise<void>;
  /** Pushes the stored points to their `metrics:<name>` subscribers, one message per connection. */
  readonly publishPoints: (points: readonly Datapoint[]) => Promise<void>;
  /** A failed broadcast is reported here; it never un-accepts stored points. */
  readonly onPublishError?: (error: unknown) => void;
  /** Evaluates alert rules on the stored points (streaming evaluation). */
  readonly evaluate?: (points: readonly Datapoint[]) => Promise<void>;
  /** A failed evaluation is reported here; it never un-accepts stored points either. */
  readonly onEvaluateError?: (error: unknown) => void;
}

/** A datapoint the storage refused: its metric already has the maximum number of series. */
export interface CardinalityRejection {
  readonly index: number;
  readonly code: 'CARDINALITY_LIMIT';
  readonly message: string;
}

export type IngestRejection = Rejection | CardinalityRejection;

export interface IngestResult {
  readonly accepted: number;
  /** Every refused item with its index in the request, in index order. */
  readonly rejected: readonly IngestRejection[];
}

/**
 * Validates each item on its own, stores the valid ones (partial acceptance), merges system
 * metrics into their host snapshots, and broadcasts: snapshots on `system_metrics`, points to
 * their metric channels. A request in which nothing is valid is a client error listing every
 * rejection; nothing valid is ever dropped because a neighbour was invalid.
 */
export async function ingestItems(items: readonly RawDatapoint[], deps: IngestDeps): Promise<IngestResult> {
  const { accepted, rejected } = validateDatapoints(items, deps.clock());
  const { rejected: overLimit } =
    accepted.length > 0 ? await deps.store.registerSeries(accepted) : { rejected: new Set<number>() };

  const stored: Datapoint[] = [];
  const refused: CardinalityRejection[] = [];
  accepted.forEach(({ index, ...point }, position) => {
    if (!overLimit.has(position)) stored.push(point);
    else
      refused.push({
        index,
        code: 'CARDINALITY_LIMIT',
        message: `Metric ${point.name} already has ${MAX_SERIES_PER_METRIC} series; new series are refused`,
      });
  });
  const allRejected = [...rejected, ...refused].sort((a, b) => a.index - b.index);

  if (stored.length === 0) {
    throw new PulseboardError('VALIDATION_FAILED', `None of the ${items.length} datapoint(s) was accepted`, {
      details: { rejected: allRejected },
    });
  }
  await deps.store.putPoints(stored);

  for (const update of snapshotUpdates(stored)) {
    const snapshot = await deps.store.mergeSnapshot(update);
    if (snapshot)
      await guarded(
        () => deps.publish(SYSTEM_METRICS_CHANNEL, envelope('system_metrics', snapshot)),
        deps.onPublishError,
      );
  }
  const evaluate = deps.evaluate;
  await Promise.all([
    guarded(() => deps.publishPoints(stored), deps.onPublishError),
    evaluate ? guarded(() => evaluate(stored), deps.onEvaluateError) : undefined,
  ]);
  return { accepted: stored.length, rejected: allRejected };
}

async function guarded(task: () => Promise<void>, onError?: (error: unknown) => void): Promise<void> {
  try {
    await task();
  } catch (error) {
    onError?.(error);
  }
}
