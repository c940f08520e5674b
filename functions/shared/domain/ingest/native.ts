import { ValidationError } from '../../errors';
import { describe, isRecord, own } from './inspect';
import { MAX_DATAPOINTS_PER_REQUEST } from './limits';
import type { RawDatapoint } from './validate';

const ENVELOPE = '{"metrics": [{"name", "value", "timestamp"?, "labels"?}]}';

/**
 * Reads the native JSON envelope `{"metrics": [{name, value, timestamp?, labels?}]}`. Throws a
 * `ValidationError` when the body is not that envelope, is empty, or holds more than
 * {@link MAX_DATAPOINTS_PER_REQUEST} items; a bad item is passed on for `validateDatapoints` to
 * reject on its own. Only the four known fields are read (own properties only); others are ignored.
 */
export function parseNativeBatch(body: unknown): RawDatapoint[] {
  if (!isRecord(body)) {
    throw new ValidationError(`Body must be a JSON object ${ENVELOPE}; got ${describe(body)}`);
  }
  const metrics = own(body, 'metrics');
  if (!Array.isArray(metrics)) {
    throw new ValidationError(`Body must be a JSON object ${ENVELOPE}`, [
      { path: 'metrics', message: `must be an array of datapoints; got ${describe(metrics)}` },
    ]);
  }
  if (metrics.length === 0) {
    throw new ValidationError('The batch is empty', [{ path: 'metrics', message: 'at least one datapoint' }]);
  }
  if (metrics.length > MAX_DATAPOINTS_PER_REQUEST) {
    throw new ValidationError(`Too many datapoints in one request`, [
      {
        path: 'metrics',
        message: `at most ${MAX_DATAPOINTS_PER_REQUEST} datapoints per request; got ${metrics.length}`,
      },
    ]);
  }
  return Array.from(metrics, (item: unknown): RawDatapoint => {
    if (!isRecord(item)) {
      return {
        name: undefined,
        value: undefined,
        problem: {
          code: 'MALFORMED_ITEM',
          message: `item must be an object {"name", "value", "timestamp"?, "labels"?}; got ${describe(item)}`,
        },
      };
    }
    return {
      name: own(item, 'name'),
      value: own(item, 'value'),
      timestamp: own(item, 'timestamp'),
      labels: own(item, 'labels'),
    };
  });
}
