import type { HostSnapshot } from '../shared/domain/system-metrics';
import { NotFoundError, ValidationError } from '../shared/errors';
import type { MetricsStore } from '../shared/ports';

const HOST_PATTERN = /^[\w.:-]{1,256}$/;

/** The latest snapshot of the named host, or of the most recently reporting host. */
export async function latestSnapshot(store: MetricsStore, host: string | undefined): Promise<HostSnapshot> {
  if (host !== undefined && !HOST_PATTERN.test(host)) {
    throw new ValidationError('host must be 1-256 characters of letters, digits, ".", ":", "_" or "-"');
  }
  const snapshot = await store.getSnapshot(host);
  if (!snapshot) {
    throw new NotFoundError(
      host ? `No system metrics for host "${host}" yet` : 'No system metrics have been received yet',
    );
  }
  return snapshot;
}
