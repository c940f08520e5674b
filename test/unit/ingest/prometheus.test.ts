import { describe, expect, it } from 'vitest';
import { MAX_DATAPOINTS_PER_REQUEST } from '../../../functions/shared/domain/ingest/limits';
import { parsePrometheusText } from '../../../functions/shared/domain/ingest/prometheus';
import { validateDatapoints } from '../../../functions/shared/domain/ingest/validate';
import { ValidationError } from '../../../functions/shared/errors';

const NOW = Date.parse('2026-11-24T06:00:00.000Z');
const TS = NOW - 60_000;

describe('parsePrometheusText', () => {
  it('reads a pushed exposition with escapes, timestamps, NaN and a broken line in the middle', () => {
    // Prepare
    const text = [
      '# HELP http_requests_total The total number of HTTP requests.',
      '# TYPE http_requests_total counter',
      `http_requests_total{method="post",code="200"} 1027 ${TS}`,
      'http_requests_total{method="post",code="400",} 3',
      '',
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      'broken_metric{path="unterminated} 1',
      '# A normal comment',
      'metric_without_timestamp_and_labels 12.47',
      'something_weird{problem="division by zero"} +Inf -3982045',
      'rpc_duration_seconds{quantile="0.5"} NaN',
      'queue_depth -Inf',
    ].join('\n');

    // Act
    const items = parsePrometheusText(text);
    const { accepted, rejected } = validateDatapoints(items, NOW);

    // Assess
    expect(accepted).toEqual([
      {
        index: 0,
        name: 'http_requests_total',
        value: 1027,
        timestamp: TS,
        labels: { method: 'post', code: '200' },
      },
      {
        index: 1,
        name: 'http_requests_total',
        value: 3,
        timestamp: NOW,
        labels: { method: 'post', code: '400' },
      },
      {
        index: 2,
        name: 'msdos_file_access_time_seconds',
        value: 1.458255915e9,
        timestamp: NOW,
        labels: { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' },
      },
      { index: 4, name: 'metric_without_timestamp_and_labels', value: 12.47, timestamp: NOW, labels: {} },
    ]);
    expect(rejected).toEqual([
      {
        index: 3,
        code: 'MALFORMED_ITEM',
        message: expect.stringMatching(/^line 7: unterminated label value/),
      },
      { index: 5, code: 'NON_FINITE_VALUE', message: 'line 10: value must be finite; got Infinity' },
      { index: 6, code: 'NON_FINITE_VALUE', message: 'line 11: value must be finite; got NaN' },
      { index: 7, code: 'NON_FINITE_VALUE', message: 'line 12: value must be finite; got -Infinity' },
    ]);
  });

  it('reads CRLF line endings, tabs and blanks around label tokens', () => {
    const items = parsePrometheusText('# TYPE a gauge\r\n\t a { x = "1" ,\ty="2" } 5\r\n\r\nb{} 6 \r\n');

    expect(items).toEqual([
      { name: 'a', value: 5, timestamp: undefined, labels: { x: '1', y: '2' }, source: 'line 2' },
      { name: 'b', value: 6, timestamp: undefined, labels: {}, source: 'line 4' },
    ]);
  });

  it('drops a label with an empty value, as Prometheus treats it as absent', () => {
    const [item] = parsePrometheusText('up{job="api",instance=""} 1');

    expect(item?.labels).toEqual({ job: 'api' });
  });

  it.each([
    ['1e3', 1000],
    ['-0.5', -0.5],
    ['.5', 0.5],
    ['+7', 7],
    ['Inf', Number.POSITIVE_INFINITY],
    ['+inf', Number.POSITIVE_INFINITY],
    ['nan', Number.NaN],
  ])('parses the value %s', (token, expected) => {
    const [item] = parsePrometheusText(`a ${token}`);

    expect(item?.value).toBe(expected);
  });

  it.each([
    ['a value that is not a number', 'a one', 'value "one" is not a number'],
    ['a hex value', 'a 0x10', 'is not a number'],
    ['a missing value', 'a{b="c"}', 'expected a value'],
    ['a fractional timestamp', 'a 1 1.5', 'is not an integer of epoch milliseconds'],
    ['text after the timestamp', 'a 1 2 3', 'unexpected text after the timestamp'],
    ['an unquoted label value', 'a{b=c} 1', 'expected a quoted label value'],
    ['an invalid escape', 'a{b="\\t"} 1', 'invalid escape \\t'],
    ['a duplicate label', 'a{b="1",b="2"} 1', 'label b appears twice'],
    ['a missing comma', 'a{b="1" c="2"} 1', 'expected "," or "}"'],
    ['a dash in the name', 'a-b 1', 'unexpected "-" in the metric name'],
    ['a leading digit', '1a 1', 'expected a metric name'],
    ['a bad label name', 'a{1b="x"} 1', 'expected a label name'],
    ['an unknown TYPE', '# TYPE a counterish', '# TYPE must be one of'],
    ['a TYPE with no name', '# TYPE', '# TYPE must name a valid metric'],
    ['a HELP for an invalid name', '# HELP 1a text', '# HELP must name a valid metric'],
  ])('turns %s into a MALFORMED_ITEM naming the line', (_case, line, reason) => {
    // Prepare
    const text = `ok 1\n${line}\nok 2`;

    // Act
    const { accepted, rejected } = validateDatapoints(parsePrometheusText(text), NOW);

    // Assess
    expect(accepted.map((point) => point.value)).toEqual([1, 2]);
    expect(rejected).toEqual([
      { index: 1, code: 'MALFORMED_ITEM', message: expect.stringContaining(reason) },
    ]);
    expect(rejected[0]?.message.startsWith('line 2: ')).toBe(true);
  });

  it('rejects a second TYPE line for the same metric', () => {
    const items = parsePrometheusText('# TYPE a gauge\n# TYPE a counter\na 1');

    expect(validateDatapoints(items, NOW).rejected).toEqual([
      { index: 0, code: 'MALFORMED_ITEM', message: expect.stringMatching(/^line 2: second # TYPE for a/) },
    ]);
  });

  it('echoes at most ~100 characters of a huge broken line', () => {
    const items = parsePrometheusText(`a{b="${'x'.repeat(2_000_000)}`);

    const { rejected } = validateDatapoints(items, NOW);

    expect(rejected[0]?.message.length).toBeLessThan(200);
  });

  it('leaves reserved and over-long label keys for validation to reject with their own code', () => {
    const items = parsePrometheusText('a{__name__="x"} 1');

    expect(validateDatapoints(items, NOW).rejected[0]?.code).toBe('INVALID_LABEL_KEY');
  });

  it('returns nothing for an empty or comment-only body', () => {
    expect(parsePrometheusText('')).toEqual([]);
    expect(parsePrometheusText('# just a comment\n\n')).toEqual([]);
  });

  it(`accepts ${MAX_DATAPOINTS_PER_REQUEST} lines and throws a ValidationError for more`, () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `a{i="${i}"} 1`).join('\n');

    expect(parsePrometheusText(lines(MAX_DATAPOINTS_PER_REQUEST))).toHaveLength(MAX_DATAPOINTS_PER_REQUEST);
    expect(() => parsePrometheusText(lines(MAX_DATAPOINTS_PER_REQUEST + 1))).toThrow(ValidationError);
  });
});
