import { describe, expect, it } from 'vitest';
import { MAX_DATAPOINTS_PER_REQUEST } from '../../../functions/shared/domain/ingest/limits';
import {
  bucketQuantile,
  otlpResponse,
  parseOtlpJson,
  sanitizeLabelKey,
  sanitizeMetricName,
} from '../../../functions/shared/domain/ingest/otlp';
import { validateDatapoints } from '../../../functions/shared/domain/ingest/validate';
import { ValidationError } from '../../../functions/shared/errors';

const NOW = Date.parse('2026-11-24T06:00:00.000Z');
const T_MS = NOW - 10_000;
const T_NANOS = `${T_MS}000000`;

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** One resource with one scope holding `metrics`, as the collector nests them. */
function request(metrics: unknown[], resourceAttributes: unknown[] = [str('service.name', 'checkout')]) {
  return {
    resourceMetrics: [
      { resource: { attributes: resourceAttributes }, scopeMetrics: [{ scope: { name: 's' }, metrics }] },
    ],
  };
}

function gauge(dataPoints: unknown[], name = 'g') {
  return { name, gauge: { dataPoints } };
}

describe('parseOtlpJson', () => {
  it('reads an OpenTelemetry Collector otlphttp export (encoding: json) with a gauge, a monotonic sum and a histogram', () => {
    // Prepare: the collector's pdata JSON, int64 fields as strings, enums as integers.
    const body = JSON.parse(`{
      "resourceMetrics": [{
        "resource": { "attributes": [
          { "key": "service.name", "value": { "stringValue": "checkout" } },
          { "key": "service.instance.id", "value": { "stringValue": "i-0abc" } },
          { "key": "host.cpu.count", "value": { "intValue": "8" } }
        ] },
        "scopeMetrics": [{
          "scope": { "name": "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "version": "0.49.0" },
          "metrics": [
            {
              "name": "process.cpu.utilization", "unit": "1", "description": "CPU",
              "gauge": { "dataPoints": [ { "timeUnixNano": "${T_NANOS}", "asDouble": 0.42 } ] }
            },
            {
              "name": "http.server.request.count", "unit": "{request}",
              "sum": {
                "dataPoints": [ {
                  "attributes": [ { "key": "http.response.status_code", "value": { "intValue": "200" } } ],
                  "startTimeUnixNano": "1795400000000000000", "timeUnixNano": "${T_NANOS}", "asInt": "1027"
                } ],
                "aggregationTemporality": 2, "isMonotonic": true
              }
            },
            {
              "name": "http.server.request.duration", "unit": "ms",
              "histogram": {
                "dataPoints": [ {
                  "attributes": [ { "key": "http.route", "value": { "stringValue": "/cart" } } ],
                  "startTimeUnixNano": "1795400000000000000", "timeUnixNano": "${T_NANOS}",
                  "count": "20", "sum": 1950.5,
                  "bucketCounts": ["2", "10", "4", "4", "0"], "explicitBounds": [10, 50, 100, 250],
                  "min": 4, "max": 240
                } ],
                "aggregationTemporality": 2
              }
            }
          ]
        }],
        "schemaUrl": "https://opentelemetry.io/schemas/1.24.0"
      }]
    }`);
    const resource = { service_name: 'checkout', service_instance_id: 'i-0abc', host_cpu_count: '8' };
    const route = { ...resource, http_route: '/cart' };

    // Act
    const { accepted, rejected } = validateDatapoints(parseOtlpJson(body), NOW);

    // Assess
    expect(rejected).toEqual([]);
    const series = accepted.map(({ name, value, labels, timestamp }) => ({ name, value, labels, timestamp }));
    expect(series).toEqual([
      { name: 'process_cpu_utilization', value: 0.42, labels: resource, timestamp: T_MS },
      {
        name: 'http_server_request_count',
        value: 1027,
        labels: { ...resource, http_response_status_code: '200' },
        timestamp: T_MS,
      },
      { name: 'http_server_request_duration_count', value: 20, labels: route, timestamp: T_MS },
      { name: 'http_server_request_duration_sum', value: 1950.5, labels: route, timestamp: T_MS },
      { name: 'http_server_request_duration_min', value: 4, labels: route, timestamp: T_MS },
      { name: 'http_server_request_duration_max', value: 240, labels: route, timestamp: T_MS },
      { name: 'http_server_request_duration_p50', value: 42, labels: route, timestamp: T_MS },
      { name: 'http_server_request_duration_p95', value: 205, labels: route, timestamp: T_MS },
      {
        name: 'http_server_request_duration_p99',
        value: expect.closeTo(233, 9),
        labels: route,
        timestamp: T_MS,
      },
    ]);
  });

  it('estimates p95 by linear interpolation inside the bucket that holds the rank (hand computation)', () => {
    // Prepare: bounds 10, 50, 100, 250 and counts 2, 10, 4, 4, 0 (20 observations), no min/max.
    // rank = 0.95 × 20 = 19; cumulative counts 2, 12, 16, 20: the 4th bucket (100, 250] holds it,
    // with 16 below: 100 + (250 − 100) × (19 − 16) / 4 = 212.5.
    // With max = 240 the bucket closes at 240 instead: 100 + 140 × 3 / 4 = 205.
    const point = {
      count: '20',
      bucketCounts: ['2', '10', '4', '4', '0'],
      explicitBounds: [10, 50, 100, 250],
    };

    // Act
    const plain = parseOtlpJson(request([{ name: 'h', histogram: { dataPoints: [point] } }]));
    const clamped = parseOtlpJson(
      request([{ name: 'h', histogram: { dataPoints: [{ ...point, max: 240 }] } }]),
    );

    // Assess
    expect(plain.find((item) => item.name === 'h_p95')?.value).toBe(212.5);
    expect(clamped.find((item) => item.name === 'h_p95')?.value).toBe(205);
  });

  it('reads the opentelemetry-proto example: int64 as JSON numbers, delta sum, no percentiles for mismatched buckets', () => {
    // Prepare: examples/metrics.json from opentelemetry-proto, with a recent timestamp.
    const time = T_MS * 1e6;
    const body = request(
      [
        {
          name: 'my.counter',
          unit: '1',
          sum: {
            aggregationTemporality: 1,
            isMonotonic: true,
            dataPoints: [
              {
                asDouble: 5,
                startTimeUnixNano: time,
                timeUnixNano: time,
                attributes: [str('my.counter.attr', 'some value')],
              },
            ],
          },
        },
        {
          name: 'my.histogram',
          histogram: {
            aggregationTemporality: 1,
            dataPoints: [
              {
                timeUnixNano: time,
                count: 3,
                sum: 3,
                bucketCounts: [1, 1, 1],
                explicitBounds: [1],
                min: 1,
                max: 1,
              },
            ],
          },
        },
      ],
      [str('service.name', 'my.service')],
    );

    // Act
    const { accepted } = validateDatapoints(parseOtlpJson(body), NOW);

    // Assess
    expect(accepted.map((point) => [point.name, point.value])).toEqual([
      ['my_counter', 5],
      ['my_histogram_count', 3],
      ['my_histogram_sum', 3],
      ['my_histogram_min', 1],
      ['my_histogram_max', 1],
    ]);
    expect(accepted[0]?.labels).toEqual({ service_name: 'my.service', my_counter_attr: 'some value' });
    expect(accepted[0]?.timestamp).toBe(T_MS);
  });

  it('summarises a summary as _count, _sum and one series per quantile', () => {
    const body = request([
      {
        name: 'rpc.duration',
        summary: {
          dataPoints: [
            {
              timeUnixNano: T_NANOS,
              count: '10',
              sum: 17.5,
              quantileValues: [{ quantile: 0.5, value: 1.5 }, { quantile: 0.99, value: 4 }, { value: 0.1 }],
            },
          ],
        },
      },
    ]);

    const items = parseOtlpJson(body, { resourceAttributes: [] });

    expect(items.map(({ name, value, labels }) => ({ name, value, labels }))).toEqual([
      { name: 'rpc_duration_count', value: 10, labels: {} },
      { name: 'rpc_duration_sum', value: 17.5, labels: {} },
      { name: 'rpc_duration', value: 1.5, labels: { quantile: '0.5' } },
      { name: 'rpc_duration', value: 4, labels: { quantile: '0.99' } },
      { name: 'rpc_duration', value: 0.1, labels: { quantile: '0' } },
    ]);
  });

  it('summarises an exponential histogram with quantiles from its base-2 buckets', () => {
    // Prepare: scale 0 → base 2. Negative bucket 0 = [−2, −1) holds 1, the zero bucket 1, positive
    // bucket 0 = (1, 2] holds 2: 4 observations. p50: rank 2 is reached in the zero bucket → 0.
    // p95: rank 3.8 lies in (1, 2] with 2 below: 1 + 1 × 1.8 / 2 = 1.9.
    const point = {
      timeUnixNano: T_NANOS,
      count: '4',
      sum: 1.5,
      scale: 0,
      zeroCount: '1',
      positive: { offset: 0, bucketCounts: ['2'] },
      negative: { bucketCounts: ['1'] },
    };

    // Act
    const items = parseOtlpJson(
      request([{ name: 'latency', exponentialHistogram: { dataPoints: [point] } }]),
    );

    // Assess
    expect(Object.fromEntries(items.map((item) => [item.name, item.value]))).toEqual({
      latency_count: 4,
      latency_sum: 1.5,
      latency_p50: 0,
      latency_p95: 1.9,
      latency_p99: expect.closeTo(1.98, 9),
    });
  });

  it('lets data point attributes win over resource attributes', () => {
    const body = request(
      [gauge([{ asDouble: 1, attributes: [str('env', 'dp')] }])],
      [str('env', 'resource')],
    );

    expect(parseOtlpJson(body)[0]?.labels).toEqual({ env: 'dp' });
  });

  it('keeps only the listed resource attributes when told to', () => {
    const body = request(
      [gauge([{ asDouble: 1 }])],
      [str('service.name', 'a'), str('telemetry.sdk.name', 'b')],
    );

    expect(parseOtlpJson(body, { resourceAttributes: ['service.name'] })[0]?.labels).toEqual({
      service_name: 'a',
    });
  });

  it('turns every kind of AnyValue into label text and drops unset or empty values', () => {
    // Prepare
    const attributes = [
      { key: 'int', value: { intValue: '9223372036854775807' } },
      { key: 'double', value: { doubleValue: 2.5 } },
      { key: 'bool', value: { boolValue: false } },
      { key: 'bytes', value: { bytesValue: 'AQID' } },
      { key: 'array', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }, {}] } } },
      { key: 'kv', value: { kvlistValue: { values: [{ key: 'x', value: { boolValue: true } }] } } },
      { key: 'unset', value: {} },
      { key: 'missing' },
      { key: 'empty', value: { stringValue: '' } },
    ];

    // Act
    const [item] = parseOtlpJson(request([gauge([{ asDouble: 1, attributes }])], []));

    // Assess
    expect(item?.labels).toEqual({
      int: '9223372036854775807',
      double: '2.5',
      bool: 'false',
      bytes: 'AQID',
      array: '["a",1,null]',
      kv: '{"x":true}',
    });
  });

  it('joins attributes that sanitise to the same label, in the order of their original keys', () => {
    const attributes = [str('a_b', 'underscore'), str('a.b', 'dot')];

    expect(parseOtlpJson(request([gauge([{ asDouble: 1, attributes }])], []))[0]?.labels).toEqual({
      a_b: 'dot;underscore',
    });
  });

  it.each([
    ['a decimal string', T_NANOS, T_MS],
    ['a JSON number', T_MS * 1e6, T_MS],
    ['a string with sub-millisecond digits', `${T_MS}999999`, T_MS],
    ['"0" (unset)', '0', undefined],
    ['absent', undefined, undefined],
  ])('reads timeUnixNano given as %s', (_case, timeUnixNano, expected) => {
    const [item] = parseOtlpJson(request([gauge([{ asDouble: 1, timeUnixNano }])]));

    expect(item?.timestamp).toBe(expected);
  });

  it('never drops an exact millisecond sent as a JSON number to the previous one (doubles above 2^53 are inexact)', () => {
    // Prepare: 1,000 consecutive milliseconds written as JSON numbers of nanoseconds.
    const millis = Array.from({ length: 1000 }, (_, i) => T_MS - i);
    const json = `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[${millis
      .map((ms) => `{"asDouble":1,"timeUnixNano":${ms}000000}`)
      .join(',')}]}}]}]}]}`;

    // Act
    const items = parseOtlpJson(JSON.parse(json));

    // Assess
    expect(items.map((item) => item.timestamp)).toEqual(millis);
  });

  it.each([
    ['asDouble', { asDouble: 1.25 }, 1.25],
    ['asInt as a string', { asInt: '-42' }, -42],
    ['asInt as a number', { asInt: 7 }, 7],
    ['asInt beyond 2^53', { asInt: '9007199254740993' }, 9007199254740992],
    ['asDouble "NaN"', { asDouble: 'NaN' }, Number.NaN],
    ['asDouble "-Infinity"', { asDouble: '-Infinity' }, Number.NEGATIVE_INFINITY],
    ['no value (a zero that proto3 JSON omitted)', {}, 0],
  ])('reads a number data point with %s', (_case, value, expected) => {
    const [item] = parseOtlpJson(request([gauge([value])]));

    expect(item?.value).toBe(expected);
  });

  it('sends NaN and invalid values on for validation to reject with their codes', () => {
    const body = request([
      gauge([{ asDouble: 'NaN' }, { asInt: 'twelve' }, { asDouble: 1, timeUnixNano: 'soon' }]),
    ]);

    const { rejected } = validateDatapoints(parseOtlpJson(body), NOW);

    expect(rejected.map(({ index, code }) => [index, code])).toEqual([
      [0, 'NON_FINITE_VALUE'],
      [1, 'INVALID_VALUE'],
      [2, 'INVALID_TIMESTAMP'],
    ]);
    expect(rejected[2]?.message).toBe(
      'metric "g" dataPoints[2]: timeUnixNano must be a decimal string of nanoseconds since the epoch; got the string "soon"',
    );
  });

  it('yields nothing for a data point flagged "no recorded value"', () => {
    const body = request([
      gauge([
        { asDouble: 1, flags: 1 },
        { asDouble: 2, flags: 0 },
      ]),
    ]);

    expect(parseOtlpJson(body).map((item) => item.value)).toEqual([2]);
  });

  it('rejects one item, naming the path, for a metric without data and for unreadable elements', () => {
    // Prepare
    const body = {
      resourceMetrics: [
        { scopeMetrics: [{ metrics: [{ name: 'no.data', unit: '1' }, gauge([{ asDouble: 1 }, 'x'])] }] },
        'not an object',
        { resource: { attributes: 'nope' }, scopeMetrics: [{ metrics: [gauge([{ asDouble: 1 }])] }] },
      ],
    };

    // Act
    const { accepted, rejected } = validateDatapoints(parseOtlpJson(body), NOW);

    // Assess
    expect(accepted.map((point) => point.index)).toEqual([1]);
    expect(rejected).toEqual([
      {
        index: 0,
        code: 'MALFORMED_ITEM',
        message:
          'resourceMetrics[0].scopeMetrics[0].metrics[0]: metric "no.data" has no gauge, sum, histogram, exponentialHistogram, summary data',
      },
      {
        index: 2,
        code: 'MALFORMED_ITEM',
        message: 'metric "g" dataPoints[1]: must be an object; got the string "x"',
      },
      {
        index: 3,
        code: 'MALFORMED_ITEM',
        message: 'resourceMetrics[1]: must be an object; got the string "not an object"',
      },
      {
        index: 4,
        code: 'MALFORMED_ITEM',
        message: 'resourceMetrics[2]: attributes must be an array; got the string "nope"',
      },
    ]);
  });

  it('rejects an attribute nested deeper than 8 levels instead of recursing without bound', () => {
    // Prepare
    let value: unknown = { stringValue: 'leaf' };
    for (let i = 0; i < 10_000; i++) value = { arrayValue: { values: [value] } };

    // Act
    const { rejected } = validateDatapoints(
      parseOtlpJson(request([gauge([{ asDouble: 1, attributes: [{ key: 'deep', value }] }])])),
      NOW,
    );

    // Assess
    expect(rejected).toEqual([
      {
        index: 0,
        code: 'MALFORMED_ITEM',
        message: 'metric "g" dataPoints[0]: attribute "deep" is nested deeper than 8 levels',
      },
    ]);
  });

  it('returns no items for an empty request, which proto3 JSON may send as {}', () => {
    expect(parseOtlpJson({})).toEqual([]);
    expect(parseOtlpJson({ resourceMetrics: [] })).toEqual([]);
  });

  it.each([
    ['not an object', 'resourceMetrics'],
    ['resourceMetrics that is not an array', { resourceMetrics: {} }],
  ])('throws a ValidationError for a body that is %s', (_case, body) => {
    expect(() => parseOtlpJson(body)).toThrow(ValidationError);
  });

  it('throws a ValidationError when histograms expand past the per-request limit', () => {
    const points = Array.from({ length: Math.ceil(MAX_DATAPOINTS_PER_REQUEST / 2) + 1 }, () => ({
      count: '1',
      sum: 1,
    }));

    expect(() => parseOtlpJson(request([{ name: 'h', histogram: { dataPoints: points } }]))).toThrow(
      /at most 10000 after expanding histograms/,
    );
  });
});

describe('sanitising names and keys', () => {
  it.each([
    ['http.server.duration', 'http_server_duration'],
    ['job:rate5m', 'job:rate5m'],
    ['2xx.count', '_2xx_count'],
    ['température', 'temp_rature'],
    ['a😀b', 'a_b'],
  ])('turns the metric name %s into %s', (name, expected) => {
    expect(sanitizeMetricName(name)).toBe(expected);
  });

  it.each([
    ['service.name', 'service_name'],
    ['k8s.pod.name', 'k8s_pod_name'],
    ['job:rate', 'job_rate'],
    ['0day', '_0day'],
  ])('turns the attribute key %s into the label key %s', (key, expected) => {
    expect(sanitizeLabelKey(key)).toBe(expected);
  });
});

describe('bucketQuantile', () => {
  it('answers the upper bound of the last non-empty bucket for q = 1 and undefined with no observations', () => {
    const buckets = [
      { lower: 0, upper: 1, count: 1 },
      { lower: 1, upper: 5, count: 3 },
      { lower: 5, upper: 10, count: 0 },
    ];

    expect(bucketQuantile(1, buckets)).toBe(5);
    expect(bucketQuantile(0.5, [{ lower: 0, upper: 1, count: 0 }])).toBeUndefined();
  });

  it('closes an open last bucket at the highest finite bound when max is unknown, as Prometheus does', () => {
    const body = request([
      {
        name: 'h',
        histogram: { dataPoints: [{ count: '2', bucketCounts: ['0', '2'], explicitBounds: [10] }] },
      },
    ]);

    expect(parseOtlpJson(body).find((item) => item.name === 'h_p50')?.value).toBe(10);
  });
});

describe('otlpResponse', () => {
  it('is an empty object when nothing was rejected', () => {
    expect(otlpResponse(0)).toEqual({});
  });

  it('reports a partial success with the count as an int64 string', () => {
    expect(otlpResponse(3, 'line 2: bad')).toEqual({
      partialSuccess: { rejectedDataPoints: '3', errorMessage: 'line 2: bad' },
    });
    expect(otlpResponse(1)).toEqual({ partialSuccess: { rejectedDataPoints: '1' } });
  });
});
