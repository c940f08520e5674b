import { describe, expect, it } from 'vitest';
import {
  absenceLabels,
  MAX_MATCHERS_LENGTH,
  parseRule,
  parseRuleDuration,
  ruleSelects,
} from '../../../functions/shared/domain/alerting/rules';
import type { Issue } from '../../../functions/shared/errors';
import { parseRuleFile } from '../../../lib/rule-file';
import { parseYaml } from '../../../lib/yaml';
import { issuesThrownBy } from '../../support/validation';

const base = { name: 'HighCpu', metric: 'cpu_usage', severity: 'critical' };

/** The issues a rule input is rejected with; fails the test when it is accepted. */
const issuesOf = (input: unknown): Issue[] => issuesThrownBy(() => parseRule(input));
const fileIssues = (text: string, format: 'yaml' | 'json'): Issue[] =>
  issuesThrownBy(() => parseRuleFile(text, format));

describe('parseRule: valid rules', () => {
  it('parses a threshold rule with defaults filled in and matchers canonicalised', () => {
    // Prepare
    const input = {
      ...base,
      kind: 'threshold',
      matchers: 'host="web-1", env=~"prod|stage"',
      op: '>',
      value: 90,
      for: '5m',
      labels: { team: 'ops' },
      annotations: { summary: 'CPU {{ $value }} on {{ $labels.host }}' },
    };

    // Act
    const rule = parseRule(input);

    // Assess
    expect(rule).toMatchObject({
      kind: 'threshold',
      name: 'HighCpu',
      matchers: 'env=~"prod|stage",host="web-1"',
      op: '>',
      value: 90,
      forMs: 300_000,
      keepFiringForMs: 0,
      labels: { team: 'ops' },
    });
    expect(ruleSelects(rule, 'cpu_usage', { host: 'web-1', env: 'prod' })).toBe(true);
    expect(ruleSelects(rule, 'cpu_usage', { host: 'web-1', env: 'preprod' })).toBe(false);
    expect(ruleSelects(rule, 'mem_usage', { host: 'web-1', env: 'prod' })).toBe(false);
  });

  it('accepts matchers written inside braces, and no matchers at all', () => {
    // Prepare / Act
    const braced = parseRule({ ...base, kind: 'threshold', op: '<', value: 1, matchers: '{host!="db"}' });
    const none = parseRule({ ...base, kind: 'threshold', op: '<', value: 1 });

    // Assess
    expect(braced.matchers).toBe('host!="db"');
    expect(none.matchers).toBe('');
    expect(ruleSelects(none, 'cpu_usage', { anything: 'x' })).toBe(true);
  });

  it.each([
    [
      { kind: 'm_of_n', op: '>=', value: 5, m: 3, n: 5 },
      { m: 3, n: 5 },
    ],
    [
      { kind: 'absence', for: '10m', keep_firing_for: '1m' },
      { forMs: 600_000, keepFiringForMs: 60_000 },
    ],
    [{ kind: 'rate_of_change', op: '>', value: 10 }, { windowMs: 0 }],
    [{ kind: 'rate_of_change', op: '<', value: -1, window: '5m' }, { windowMs: 300_000 }],
    [
      { kind: 'anomaly', method: 'stddev' },
      { k: 3, windowPoints: 60, minPoints: 20, direction: 'both' },
    ],
    [
      { kind: 'anomaly', method: 'stddev', window_points: 10, k: 2.5, direction: 'above' },
      { k: 2.5, windowPoints: 10, minPoints: 10, direction: 'above' },
    ],
    [
      { kind: 'anomaly', method: 'ewma', alpha: 0.1 },
      { alpha: 0.1, k: 3, minPoints: 20 },
    ],
  ])('parses %o', (fields, expected) => {
    // Prepare / Act
    const rule = parseRule({ ...base, ...fields });

    // Assess
    expect(rule).toMatchObject(expected);
  });

  it('gives the absence alert the labels of the equality matchers', () => {
    // Prepare
    const rule = parseRule({
      ...base,
      kind: 'absence',
      for: '5m',
      matchers: 'job="api",env=~"prod.*",x!="y"',
    });

    // Act / Assess
    expect(absenceLabels(rule)).toEqual({ job: 'api' });
  });

  it('changes the digest when the condition changes, not when annotations do', () => {
    // Prepare
    const rule = { ...base, kind: 'threshold', op: '>', value: 1 };

    // Act
    const a = parseRule(rule).digest;
    const b = parseRule({ ...rule, annotations: { summary: 'x' } }).digest;
    const c = parseRule({ ...rule, value: 2 }).digest;

    // Assess
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe('parseRule: malformed rules', () => {
  it.each([
    ['not an object', 'nope', ''],
    ['an array', [], ''],
    ['null', null, ''],
  ])('refuses %s', (_what, input, path) => {
    // Prepare / Act
    const issues = issuesOf(input);

    // Assess
    expect(issues).toEqual([{ path, message: expect.stringContaining('must be an object') }]);
  });

  it('reports every missing field of a threshold rule at once', () => {
    // Prepare / Act
    const issues = issuesOf({ kind: 'threshold' });

    // Assess
    expect(issues.map((issue) => issue.path).sort()).toEqual(['metric', 'name', 'op', 'severity', 'value']);
  });

  it.each([
    [{ kind: 'threshold', op: '>', value: '90' }, 'value', 'must be a number'],
    [{ kind: 'threshold', op: '=>', value: 90 }, 'op', 'must be one of'],
    [{ kind: 'threshold', op: '>', value: Number.POSITIVE_INFINITY }, 'value', 'finite'],
    [{ kind: 'threshold', op: '>', value: 1e300 }, 'value', 'at most'],
    [{ kind: 'threshold', op: '>', value: 1, for: '-5m' }, 'for', 'cannot be negative'],
    [{ kind: 'threshold', op: '>', value: 1, for: 300 }, 'for', 'duration string'],
    [{ kind: 'threshold', op: '>', value: 1, for: '25h' }, 'for', 'between 0s and 1d'],
    [{ kind: 'threshold', op: '>', value: 1, keep_firing_for: '5 minutes' }, 'keep_firing_for', 'duration'],
    [{ kind: 'threshold', op: '>', value: 1, for: '5m1h' }, 'for', 'duration'],
    [{ kind: 'm_of_n', op: '>', value: 1, m: 5, n: 3 }, 'm', 'at most n (3)'],
    [{ kind: 'm_of_n', op: '>', value: 1, m: 1, n: 101 }, 'n', 'at most 100'],
    [{ kind: 'm_of_n', op: '>', value: 1, m: 1.5, n: 3 }, 'm', 'integer'],
    [{ kind: 'm_of_n', op: '>', value: 1, m: 0, n: 3 }, 'm', 'at least 1'],
    [{ kind: 'absence' }, 'for', 'required for absence rules'],
    [{ kind: 'absence', for: '0s' }, 'for', 'between 1s and 1d'],
    [{ kind: 'rate_of_change', op: '>', value: 1, window: '0s' }, 'window', 'between 1s'],
    [{ kind: 'anomaly' }, 'method', 'is required'],
    [{ kind: 'anomaly', method: 'ewma' }, 'alpha', 'is required'],
    [{ kind: 'anomaly', method: 'ewma', alpha: 0 }, 'alpha', 'greater than 0'],
    [{ kind: 'anomaly', method: 'ewma', alpha: 1.5 }, 'alpha', 'at most 1'],
    [{ kind: 'anomaly', method: 'stddev', k: -1 }, 'k', 'greater than 0'],
    [{ kind: 'anomaly', method: 'stddev', window_points: 101 }, 'window_points', 'at most 100'],
    [
      { kind: 'anomaly', method: 'stddev', window_points: 10, min_points: 20 },
      'min_points',
      'at most window_points',
    ],
    [
      { kind: 'anomaly', method: 'stddev', direction: 'up' },
      'direction',
      'must be one of both, above, below',
    ],
    [{ kind: 'threshhold' }, 'kind', 'must be one of threshold'],
  ])('refuses %o with an issue at %s', (fields, path, message) => {
    // Prepare / Act
    const issues = issuesOf({ ...base, ...fields });

    // Assess
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it.each([
    [{ name: '1bad' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ name: 'a b' }, 'name'],
    [{ name: 'ok:name-1', metric: 'cpu usage' }, 'metric'],
    [{ severity: 'urgent' }, 'severity'],
    [{ severity: 'CRITICAL' }, 'severity'],
  ])('refuses the identifier fields in %o', (fields, path) => {
    // Prepare / Act
    const issues = issuesOf({ ...base, kind: 'threshold', op: '>', value: 1, ...fields });

    // Assess
    expect(issues.map((issue) => issue.path)).toEqual([path]);
  });

  it('refuses unknown fields, suggesting the field a typo meant', () => {
    // Prepare / Act
    const issues = issuesOf({ ...base, kind: 'threshold', op: '>', valeu: 1, value: 1, threshold: 2 });

    // Assess
    expect(issues).toEqual([
      { path: 'valeu', message: 'is not a field of a threshold rule (did you mean "value"?)' },
      { path: 'threshold', message: 'is not a field of a threshold rule' },
    ]);
  });

  it("refuses another kind's fields (m and n on a threshold rule, alpha on stddev)", () => {
    // Prepare / Act
    const threshold = issuesOf({ ...base, kind: 'threshold', op: '>', value: 1, m: 1, n: 2 });
    const stddev = issuesOf({ ...base, kind: 'anomaly', method: 'stddev', alpha: 0.5 });

    // Assess
    expect(threshold.map((issue) => issue.path)).toEqual(['m', 'n']);
    expect(stddev.map((issue) => issue.path)).toEqual(['alpha']);
  });

  it('refuses prototype keys as unknown fields and reserved label keys, without polluting anything', () => {
    // Prepare
    const input = JSON.parse(
      '{"name":"x","kind":"threshold","metric":"m","severity":"info","op":">","value":1,' +
        '"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},' +
        '"labels":{"__proto__":"x"},"annotations":{"__proto__":"{{ $value }}"}}',
    );

    // Act
    const issues = issuesOf(input);

    // Assess
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      '__proto__',
      'annotations.__proto__',
      'constructor',
      'labels.__proto__',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    [{ labels: { 'bad-key': 'x' } }, 'labels.bad-key', 'key must match'],
    [{ labels: { team: 5 } }, 'labels.team', 'must be a string'],
    [{ labels: { team: '' } }, 'labels.team', '1–1024 bytes'],
    [{ labels: { team: 'x'.repeat(1025) } }, 'labels.team', '1–1024 bytes'],
    [{ labels: { alertname: 'y' } }, 'labels.alertname', 'set by the rule'],
    [{ labels: { severity: 'y' } }, 'labels.severity', 'set by the rule'],
    [
      { labels: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, 'v'])) },
      'labels',
      'at most 16',
    ],
    [{ labels: ['a'] }, 'labels', 'must be an object'],
    [{ annotations: { summary: '{{ nosuch }}' } }, 'annotations.summary', 'not a valid template'],
    [{ annotations: { summary: 'x'.repeat(5000) } }, 'annotations.summary', 'at most 4096'],
    [{ annotations: { summary: 1 } }, 'annotations.summary', 'must be a string'],
  ])('refuses labels and annotations like %o', (fields, path, message) => {
    // Prepare / Act
    const issues = issuesOf({ ...base, kind: 'threshold', op: '>', value: 1, ...fields });

    // Assess
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it.each([
    ['host="web-1', 'unterminated string'],
    ['host=web-1', 'must be a double-quoted string'],
    ['host="a" env="b"', 'expected "," or "}"'],
    ['__name__="cpu"', 'metric field'],
    ['host=~"(a+)+"', 'backtrack'],
    ['host=~"("', 'not a valid regular expression'],
    ['host="é"', 'printable ASCII'],
    [`host="${'a'.repeat(MAX_MATCHERS_LENGTH)}"`, `at most ${MAX_MATCHERS_LENGTH} characters`],
  ])("refuses the matchers %j with the channel grammar's own reason", (matchers, message) => {
    // Prepare / Act
    const issues = issuesOf({ ...base, kind: 'threshold', op: '>', value: 1, matchers });

    // Assess
    expect(issues).toEqual([{ path: 'matchers', message: expect.stringContaining(message) }]);
  });

  it('quotes hostile strings cut short in messages instead of echoing them whole', () => {
    // Prepare
    const hostile = `<script>${'x'.repeat(10_000)}\u0000`;

    // Act
    const issues = issuesOf({
      ...base,
      kind: 'threshold',
      op: '>',
      value: 1,
      name: hostile,
      metric: hostile,
    });

    // Assess
    for (const issue of issues) expect(issue.message.length).toBeLessThan(400);
  });

  it('names the rule and the first issue in the error message', () => {
    // Prepare / Act
    let message = '';
    try {
      parseRule({ ...base, kind: 'threshold', op: '>' });
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).toBe('Invalid alert rule "HighCpu": value is required');
  });
});

describe('parseRuleDuration', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
  ])('reads %s as %d ms', (text, ms) => {
    // Prepare / Act / Assess
    expect(parseRuleDuration(text)).toBe(ms);
  });

  it.each(['', '5', '-5m', '5 m', '1.5h', '30s5m', '1m1m', 'PT5M'])('refuses %j', (text) => {
    // Prepare / Act / Assess
    expect(parseRuleDuration(text)).toBeUndefined();
  });
});

describe('parseRuleFile', () => {
  const yaml = `
# Pulseboard alert rules
---
rules:
  - name: HighCpu
    kind: threshold
    metric: cpu_usage
    matchers: host="web-1",env=~"prod|stage"   # trailing comment
    severity: critical
    op: '>'
    value: 90
    for: 5m
    labels:
      team: ops
    annotations:
      summary: "CPU {{ $value }} on {{ $labels.host }}"
      description: |
        Line one
        line two
  - name: Heartbeat
    kind: absence
    metric: heartbeat
    severity: warning
    for: 10m
    annotations:
      summary: >-
        No heartbeat
        from {{ $labels.host }}
  - name: Spikes
    kind: m_of_n
    metric: errors
    severity: info
    op: ">="
    value: 1.5e1
    m: 3
    n: 5
`;

  it('reads a YAML rule file into the same rules as the equivalent JSON', () => {
    // Prepare
    const json = JSON.stringify({
      rules: [
        {
          name: 'HighCpu',
          kind: 'threshold',
          metric: 'cpu_usage',
          matchers: 'host="web-1",env=~"prod|stage"',
          severity: 'critical',
          op: '>',
          value: 90,
          for: '5m',
          labels: { team: 'ops' },
          annotations: {
            summary: 'CPU {{ $value }} on {{ $labels.host }}',
            description: 'Line one\nline two\n',
          },
        },
        {
          name: 'Heartbeat',
          kind: 'absence',
          metric: 'heartbeat',
          severity: 'warning',
          for: '10m',
          annotations: { summary: 'No heartbeat from {{ $labels.host }}' },
        },
        {
          name: 'Spikes',
          kind: 'm_of_n',
          metric: 'errors',
          severity: 'info',
          op: '>=',
          value: 15,
          m: 3,
          n: 5,
        },
      ],
    });

    // Act
    const fromYaml = parseRuleFile(yaml, 'yaml');
    const fromJson = parseRuleFile(json, 'json');

    // Assess
    expect(fromYaml).toEqual(fromJson);
    expect(fromYaml.map((rule) => rule.name)).toEqual(['HighCpu', 'Heartbeat', 'Spikes']);
  });

  it('reports issues of every rule with their index', () => {
    // Prepare
    const json = JSON.stringify({
      rules: [
        { ...base, kind: 'threshold', op: '>', value: 1 },
        { ...base, kind: 'threshold', op: '>' },
        { ...base, kind: 'threshold', op: '>', value: 1 },
      ],
    });

    // Act
    const issues = fileIssues(json, 'json');

    // Assess
    expect(issues).toEqual([
      { path: 'rules[1].value', message: 'is required' },
      { path: 'rules[2].name', message: 'duplicates the name of rules[0]' },
    ]);
  });

  it("explains that YAML needs operators quoted when a bare '>' reads as an empty block", () => {
    // Prepare
    const text =
      'rules:\n  - name: X\n    kind: threshold\n    metric: m\n    severity: info\n    op: >\n    value: 1\n';

    // Act
    const issues = fileIssues(text, 'yaml');

    // Assess
    expect(issues).toEqual([
      { path: 'rules[0].op', message: expect.stringContaining("quote operators: op: '>'") },
    ]);
  });

  it.each([
    ['{', 'json', ''],
    ['[]', 'json', ''],
    ['{"rules": {}}', 'json', 'rules'],
    ['{"rules": [], "groups": []}', 'json', 'groups'],
    ['rules:\n\t- name: x', 'yaml', 'line 2'],
    // Full YAML: flow collections, anchors and tags parse, and the rule itself is refused.
    ['rules: [{name: x}]', 'yaml', 'rules[0].kind'],
    ['rules:\n  - name: &a x', 'yaml', 'rules[0].kind'],
    ['rules:\n  - op: >=', 'yaml', 'line 2'],
    ['rules:\n  - op: !=', 'yaml', 'rules[0].kind'],
    ['rules:\n  - name: "unterminated', 'yaml', 'line 2'],
    ['rules:\n  - name: a\n    name: b', 'yaml', 'line 3'],
    ['rules:\n  - name: a\n      kind: b', 'yaml', 'line 2'],
    ['rules: []\n---\nrules: []', 'yaml', 'line 2'],
  ])('refuses %j (%s) with an issue at %j', (text, format, path) => {
    // Prepare / Act
    const issues = fileIssues(text, format as 'yaml' | 'json');

    // Assess
    expect(issues[0]?.path).toBe(path);
  });
});

describe('parseYaml (the yaml package, as configured for rule and alertmanager.yml files)', () => {
  it('types plain scalars by the YAML 1.2 core schema and keeps quoted ones as strings', () => {
    // Prepare
    const text = [
      'a: 1',
      'b: -2.5',
      'c: true',
      'd: null',
      'e: ~',
      'f: "1"',
      "g: 'it''s'",
      'h: yes',
      'i: .inf',
      'j: 0x1F',
      'k:',
      'l: []',
      'm: {}',
      'n: "tab\\there \\u00e9"',
    ].join('\n');

    // Act
    const value = parseYaml(text, 'test');

    // Assess
    expect(value).toEqual({
      a: 1,
      b: -2.5,
      c: true,
      d: null,
      e: null,
      f: '1',
      g: "it's",
      h: 'yes',
      i: Number.POSITIVE_INFINITY,
      j: 31,
      k: null,
      l: [],
      m: {},
      n: 'tab\there é',
    });
  });

  it("reads nested sequences and mappings, including a list at its key's indentation", () => {
    // Prepare
    const text = 'top:\n- a\n- - b\n  - c\n- key: v\n  other: w\nnext:\n  deep:\n    x: 1\n';

    // Act
    const value = parseYaml(text, 'test');

    // Assess
    expect(value).toEqual({ top: ['a', ['b', 'c'], { key: 'v', other: 'w' }], next: { deep: { x: 1 } } });
  });

  it('applies block scalar chomping and folding', () => {
    // Prepare
    const text =
      'keep: |+\n  a\n\nstrip: |-\n  a\n  b\nfold: >\n  a\n  b\n\n  c\n    indented\n  d\nafter: 1\n';

    // Act
    const value = parseYaml(text, 'test');

    // Assess
    expect(value).toEqual({ keep: 'a\n\n', strip: 'a\nb', fold: 'a b\nc\n  indented\nd\n', after: 1 });
  });

  it('keeps __proto__ as an ordinary own key, never as a prototype', () => {
    // Prepare / Act
    const value = parseYaml('__proto__:\n  polluted: true\n', 'test') as Record<string, unknown>;

    // Assess
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
