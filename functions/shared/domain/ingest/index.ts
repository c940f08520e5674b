import { MalformedJsonError, PulseboardError, ValidationError } from '../../errors';
import { isRecord } from './inspect';
import { parseNativeBatch } from './native';
import { type OtlpOptions, parseOtlpJson } from './otlp';
import { parsePrometheusText } from './prometheus';
import type { RawDatapoint } from './validate';

export * from './limits';
export { parseNativeBatch } from './native';
export {
  type Bucket,
  bucketQuantile,
  type OtlpOptions,
  otlpResponse,
  parseOtlpJson,
  sanitizeLabelKey,
  sanitizeMetricName,
} from './otlp';
export { parsePrometheusText } from './prometheus';
export * from './validate';

/** The wire formats `POST /api/metrics` reads. */
export type IngestFormat = 'native' | 'otlp' | 'prometheus';

/** A parsed request body and the format it was in (OTLP clients expect an OTLP response body). */
export interface ParsedIngestBody {
  readonly format: IngestFormat;
  readonly items: RawDatapoint[];
}

const SUPPORTED =
  'send application/json (a {"metrics": [...]} batch or OTLP/JSON) or text/plain; version=0.0.4 (Prometheus text)';

/**
 * Parses a request body by its Content-Type:
 * - `application/json`, or no Content-Type at all: OTLP/JSON when the object has `resourceMetrics`,
 *   else the native `{"metrics": [...]}` batch;
 * - `text/plain`, with no `version` or `version=0.0.4`: the Prometheus text exposition format;
 * - `application/x-protobuf`: rejected, asking for the collector exporter's `encoding: json`;
 * - anything else: rejected.
 *
 * Throws `PulseboardError('UNSUPPORTED_MEDIA_TYPE')` (415), `MalformedJsonError` (400) or
 * `ValidationError` (400: an empty body, a wrong envelope, too many datapoints). Bad individual
 * items are returned for `validateDatapoints` to reject.
 */
export function parseIngestRequest(
  contentType: string | undefined,
  bodyText: string,
  options: OtlpOptions = {},
): ParsedIngestBody {
  const { mediaType, parameters } = parseContentType(contentType ?? 'application/json');
  if (mediaType === 'application/json') {
    const body = parseJson(bodyText);
    return isRecord(body) && Object.hasOwn(body, 'resourceMetrics')
      ? { format: 'otlp', items: parseOtlpJson(body, options) }
      : { format: 'native', items: parseNativeBatch(body) };
  }
  if (mediaType === 'text/plain') {
    const version = parameters.get('version');
    if (version !== undefined && version !== '0.0.4') {
      throw new PulseboardError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Prometheus text format version ${JSON.stringify(version.slice(0, 20))} is not supported; send version=0.0.4`,
      );
    }
    return { format: 'prometheus', items: parsePrometheusText(bodyText) };
  }
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') {
    throw new PulseboardError(
      'UNSUPPORTED_MEDIA_TYPE',
      'OTLP protobuf is not supported; set the OpenTelemetry Collector otlphttp exporter to `encoding: json` (SDKs: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/json)',
    );
  }
  const shown =
    mediaType === '' ? 'an empty Content-Type' : `Content-Type ${JSON.stringify(mediaType.slice(0, 100))}`;
  throw new PulseboardError('UNSUPPORTED_MEDIA_TYPE', `${shown} is not supported; ${SUPPORTED}`);
}

/** {@link parseIngestRequest}, returning only the items. */
export function parseIngestBody(contentType: string | undefined, bodyText: string): RawDatapoint[] {
  return parseIngestRequest(contentType, bodyText).items;
}

function parseJson(bodyText: string): unknown {
  const text = bodyText.startsWith('\uFEFF') ? bodyText.slice(1) : bodyText;
  if (text.trim() === '') throw new ValidationError('Request body is empty; a JSON object is expected');
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new MalformedJsonError(cause);
  }
}

/** `type/subtype; key=value` in lower case (parameter values keep their case, quotes removed). */
function parseContentType(header: string): { mediaType: string; parameters: Map<string, string> } {
  const [type = '', ...rest] = header.split(';');
  const parameters = new Map<string, string>();
  for (const parameter of rest) {
    const equals = parameter.indexOf('=');
    if (equals < 0) continue;
    const key = parameter.slice(0, equals).trim().toLowerCase();
    const value = parameter
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    parameters.set(key, value);
  }
  return { mediaType: type.trim().toLowerCase(), parameters };
}
