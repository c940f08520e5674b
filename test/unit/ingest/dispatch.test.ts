import { describe, expect, it } from 'vitest';
import { parseIngestBody, parseIngestRequest } from '../../../functions/shared/domain/ingest/index';
import { MalformedJsonError, PulseboardError, ValidationError } from '../../../functions/shared/errors';
import { errorResponse } from '../../../functions/shared/http';

const NATIVE = JSON.stringify({ metrics: [{ name: 'cpu', value: 1 }] });
const OTLP = JSON.stringify({
  resourceMetrics: [
    { scopeMetrics: [{ metrics: [{ name: 'a.b', gauge: { dataPoints: [{ asDouble: 2 }] } }] }] },
  ],
});
const PROMETHEUS = 'cpu{host="a"} 3\n';

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('parseIngestRequest', () => {
  it.each([
    ['application/json', NATIVE, 'native', 'cpu'],
    ['application/json; charset=utf-8', NATIVE, 'native', 'cpu'],
    ['Application/JSON', OTLP, 'otlp', 'a_b'],
    [undefined, NATIVE, 'native', 'cpu'],
    ['text/plain', PROMETHEUS, 'prometheus', 'cpu'],
    ['text/plain; version=0.0.4', PROMETHEUS, 'prometheus', 'cpu'],
    ['text/plain; version="0.0.4"; charset=utf-8', PROMETHEUS, 'prometheus', 'cpu'],
  ])('reads Content-Type %s as the %s format', (contentType, body, format, name) => {
    // Act
    const parsed = parseIngestRequest(contentType, body);

    // Assess
    expect(parsed.format).toBe(format);
    expect(parsed.items[0]?.name).toBe(name);
  });

  it('tells OTLP from native JSON by the resourceMetrics key, even when it is empty', () => {
    expect(parseIngestRequest('application/json', '{"resourceMetrics":[]}')).toEqual({
      format: 'otlp',
      items: [],
    });
  });

  it('strips a UTF-8 byte order mark before parsing JSON', () => {
    expect(parseIngestBody('application/json', `\uFEFF${NATIVE}`)).toHaveLength(1);
  });

  it('rejects OTLP protobuf with a 415 that says to switch the exporter to encoding: json', () => {
    // Act
    const error = captureError(() => parseIngestBody('application/x-protobuf', '\u0000\u0001'));

    // Assess
    expect(error).toBeInstanceOf(PulseboardError);
    expect((error as PulseboardError).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((error as PulseboardError).message).toContain('encoding: json');
    expect(errorResponse(error).statusCode).toBe(415);
  });

  it.each([
    'application/x-www-form-urlencoded',
    'application/openmetrics-text; version=1.0.0',
    'text/plain; version=1.0.0',
    'text/csv',
    '',
  ])('rejects Content-Type "%s" with a 415', (contentType) => {
    const error = captureError(() => parseIngestBody(contentType, 'cpu 1'));

    expect(errorResponse(error).statusCode).toBe(415);
  });

  it('rejects a body that is not JSON with MalformedJsonError (400)', () => {
    const error = captureError(() => parseIngestBody('application/json', '{"metrics": ['));

    expect(error).toBeInstanceOf(MalformedJsonError);
    expect(errorResponse(error).statusCode).toBe(400);
  });

  it.each([
    ['an empty body', ''],
    ['a blank body', ' \n'],
    ['a JSON array', '[]'],
    ['a JSON string', '"cpu"'],
  ])('rejects %s sent as JSON with a ValidationError (400)', (_case, body) => {
    const error = captureError(() => parseIngestBody('application/json', body));

    expect(error).toBeInstanceOf(ValidationError);
    expect(errorResponse(error).statusCode).toBe(400);
  });
});
