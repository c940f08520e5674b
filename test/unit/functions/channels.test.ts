import { describe, expect, it } from 'vitest';
import {
  type Channel,
  InvalidChannelError,
  indexKey,
  MAX_CHANNEL_LENGTH,
  matches,
  parseChannel,
} from '../../../functions/shared/domain/channels';
import type { Datapoint } from '../../../functions/shared/domain/metrics';
import { ValidationError } from '../../../functions/shared/errors';

const point = (name: string, labels: Record<string, string> = {}): Datapoint => ({
  name,
  labels,
  value: 1,
  timestamp: 0,
});

function parseError(text: string): InvalidChannelError {
  try {
    parseChannel(text);
  } catch (error) {
    if (error instanceof InvalidChannelError) return error;
    throw error;
  }
  throw new Error(`${text} parsed, but it should not have`);
}

describe('parseChannel', () => {
  it.each([
    ['system_metrics', 'system_metrics', 'system_metrics'],
    ['alerts', 'alerts', 'alerts'],
    ['incidents', 'incidents', 'incidents'],
    ['metrics:cpu_usage', 'metrics:cpu_usage', 'metrics:cpu_usage'],
    ['metrics:cpu_usage{}', 'metrics:cpu_usage', 'metrics:cpu_usage'],
    ['metrics:job:rate5m', 'metrics:job:rate5m', 'metrics:job:rate5m'],
    [
      'metrics:cpu_usage{host="web-1",env=~"prod|stage",region!="eu",job!~"test.*"}',
      'metrics:cpu_usage{env=~"prod|stage",host="web-1",job!~"test.*",region!="eu"}',
      'metrics:cpu_usage',
    ],
    ['metrics:cpu_usage { host = "web-1" , }', 'metrics:cpu_usage{host="web-1"}', 'metrics:cpu_usage'],
    ['metrics:up{a="1",a="1"}', 'metrics:up{a="1"}', 'metrics:up'],
    ['metrics:up{path="a\\"b\\\\c"}', 'metrics:up{path="a\\"b\\\\c"}', 'metrics:up'],
    ['metrics:up{q="it\\\'s\\tok"}', 'metrics:up{q="it\'s\\tok"}', 'metrics:up'],
    ['metrics:up{city="caf\\u00E9"}', 'metrics:up{city="caf\\u00e9"}', 'metrics:up'],
    [
      'metrics:up{host=~"web-[0-9]+",zone=~"(eu|us)-.*"}',
      'metrics:up{host=~"web-[0-9]+",zone=~"(eu|us)-.*"}',
      'metrics:up',
    ],
  ])('accepts %s as %s, looked up by %s', (text, canonical, key) => {
    const channel = parseChannel(text);

    expect(channel.text).toBe(canonical);
    expect(indexKey(channel)).toBe(key);
    expect(parseChannel(canonical).text).toBe(canonical);
  });

  it('unescapes quoted values', () => {
    const channel = parseChannel('metrics:up{path="a\\"b\\\\c",city="caf\\u00e9",line="x\\ny"}');

    expect(channel.kind === 'metrics' && channel.matchers.map((m) => [m.label, m.value])).toEqual([
      ['city', 'café'],
      ['line', 'x\ny'],
      ['path', 'a"b\\c'],
    ]);
  });

  it.each([
    ['an empty channel', '', 'non-empty'],
    ['an unknown plain channel', 'stocks', 'expected one of system_metrics, alerts, incidents or metrics:'],
    ['a metric channel without a name', 'metrics:', 'expected a metric name'],
    ['a bare "metrics"', 'metrics', 'expected one of'],
    ['a metric name starting with a digit', 'metrics:9cpu', 'metric name "9cpu" must match'],
    ['text after the channel', 'metrics:cpu{host="a"}x', 'unexpected text after the channel'],
    ['a name with a dash', 'metrics:cpu-usage', 'unexpected text after the channel'],
    ['an unclosed brace', 'metrics:cpu{host="a"', 'missing closing "}"'],
    ['an unterminated string', 'metrics:cpu{host="a}', 'unterminated string'],
    ['an unquoted value', 'metrics:cpu{host=web-1}', 'must be a double-quoted string'],
    ['a single-quoted value', "metrics:cpu{host='web-1'}", 'must be a double-quoted string'],
    ['an unknown operator', 'metrics:cpu{host=="a"}', 'must be a double-quoted string'],
    ['a missing operator', 'metrics:cpu{host "a"}', 'expected =, !=, =~ or !~'],
    ['a bad label name', 'metrics:cpu{1host="a"}', 'label name "1host" must match'],
    ['an empty matcher', 'metrics:cpu{host="a",,env="b"}', 'expected a label name'],
    ['matchers without a comma', 'metrics:cpu{host="a" env="b"}', 'expected "," or "}"'],
    ['an unknown escape', 'metrics:cpu{host="a\\qb"}', 'unknown escape "\\q"'],
    ['a trailing backslash', 'metrics:cpu{host="a\\', 'unterminated string'],
    ['a __name__ matcher', 'metrics:cpu{__name__="cpu"}', 'the metric name goes before the braces'],
    ['a control character', 'metrics:cpu{host="a\u0001"}', 'printable ASCII'],
    ['raw non-ASCII', 'metrics:cpu{city="café"}', 'printable ASCII'],
    ['an invalid regex', 'metrics:cpu{host=~"web-("}', 'not a valid regular expression'],
    ['a regex escaping its anchoring group', 'metrics:cpu{host=~"a)|(b"}', 'unmatched ")"'],
    ['nested quantifiers', 'metrics:cpu{host=~"(a+)+b"}', 'repeats a group'],
    ['a repeated alternation', 'metrics:cpu{host=~"(a|aa)*b"}', 'repeats a group'],
    ['a quantified group holding a bounded repeat', 'metrics:cpu{host=~"(a{2,9}){2,}"}', 'repeats a group'],
    ['many unbounded quantifiers', 'metrics:cpu{host=~".*.*.*.*x"}', 'more than 3 unbounded quantifiers'],
    ['a backreference', 'metrics:cpu{host=~"(a)\\\\1"}', 'backreference'],
    ['lookahead', 'metrics:cpu{host=~"(?!web).*"}', 'lookaround'],
    ['lookbehind', 'metrics:cpu{host=~".*(?<=1)"}', 'lookaround'],
    ['an over-long regex', `metrics:cpu{host=~"${'a'.repeat(129)}"}`, 'longer than 128 characters'],
    ['an over-long channel', `metrics:cpu{host="${'a'.repeat(MAX_CHANNEL_LENGTH)}"}`, 'longer than 256'],
  ])('rejects %s, naming the channel and the problem', (_case, text, reason) => {
    const error = parseError(text);

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain(`Invalid channel ${JSON.stringify(text).slice(0, 40)}`);
    expect(error.message).toContain(reason);
  });

  it('accepts a channel of exactly the maximum length', () => {
    const text = `metrics:cpu{host="${'a'.repeat(MAX_CHANNEL_LENGTH - 20)}"}`;

    expect(text).toHaveLength(MAX_CHANNEL_LENGTH);
    expect(parseChannel(text).text).toBe(text);
  });
});

describe('matches', () => {
  const check = (text: string, labels: Record<string, string>, name = 'cpu') =>
    matches(parseChannel(text), point(name, labels));

  it('matches a metric channel without matchers to every point of that metric and no other', () => {
    expect(check('metrics:cpu', { host: 'a' })).toBe(true);
    expect(check('metrics:cpu', {})).toBe(true);
    expect(check('metrics:cpu', { host: 'a' }, 'cpu_total')).toBe(false);
  });

  it('never matches a datapoint to a plain channel', () => {
    expect(matches(parseChannel('system_metrics') as Channel, point('system_metrics'))).toBe(false);
  });

  it.each([
    ['=', 'metrics:cpu{host="web-1"}', { host: 'web-1' }, true],
    ['= another value', 'metrics:cpu{host="web-1"}', { host: 'web-10' }, false],
    ['!=', 'metrics:cpu{region!="eu"}', { region: 'us' }, true],
    ['!= the same value', 'metrics:cpu{region!="eu"}', { region: 'eu' }, false],
    ['=~ is anchored at both ends', 'metrics:cpu{host=~"web"}', { host: 'web-1' }, false],
    ['=~ matching the whole value', 'metrics:cpu{host=~"web-.*"}', { host: 'web-1' }, true],
    ['=~ anchors every alternative', 'metrics:cpu{env=~"prod|stage"}', { env: 'preprod' }, false],
    ['=~ anchors every alternative (end)', 'metrics:cpu{env=~"prod|stage"}', { env: 'stage-2' }, false],
    ['=~ an alternative', 'metrics:cpu{env=~"prod|stage"}', { env: 'stage' }, true],
    ['!~', 'metrics:cpu{job!~"test.*"}', { job: 'api' }, true],
    ['!~ a matching value', 'metrics:cpu{job!~"test.*"}', { job: 'test-1' }, false],
    ['!~ anchored', 'metrics:cpu{job!~"test"}', { job: 'test-1' }, true],
    ['. matches a newline', 'metrics:cpu{msg=~"a.b"}', { msg: 'a\nb' }, true],
    ['an escaped value', 'metrics:cpu{path="a\\"b"}', { path: 'a"b' }, true],
    ['every matcher must hold', 'metrics:cpu{host="a",env="prod"}', { host: 'a', env: 'dev' }, false],
    ['every matcher holds', 'metrics:cpu{host="a",env="prod"}', { host: 'a', env: 'prod' }, true],
  ])('%s', (_case, text, labels, expected) => {
    expect(check(text, labels)).toBe(expected);
  });

  it.each([
    ['!~ on a missing label matches', 'metrics:cpu{job!~"test.*"}', true],
    ['!~ ".*" on a missing label does not match', 'metrics:cpu{job!~".*"}', false],
    ['!= on a missing label matches', 'metrics:cpu{region!="eu"}', true],
    ['= "" on a missing label matches', 'metrics:cpu{region=""}', true],
    ['= a value on a missing label does not match', 'metrics:cpu{region="eu"}', false],
    ['=~ ".+" on a missing label does not match', 'metrics:cpu{region=~".+"}', false],
    ['=~ ".*" on a missing label matches', 'metrics:cpu{region=~".*"}', true],
    ['a label named like an Object method is still missing', 'metrics:cpu{constructor=""}', true],
  ])('treats a missing label as the empty string: %s', (_case, text, expected) => {
    expect(check(text, { host: 'a' })).toBe(expected);
  });
});
