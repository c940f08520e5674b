import { describe, expect, it } from 'vitest';
import {
  MAX_RENDERED_BYTES,
  renderTemplate,
  type TemplateContext,
  templateProblem,
} from '../../../functions/shared/domain/alerting/template';

const context: TemplateContext = {
  labels: { host: 'web-1.eu.example.com:9100', alertname: 'HighCpu', severity: 'critical' },
  value: 93.456,
  rule: { name: 'HighCpu', metric: 'cpu_usage', kind: 'threshold', severity: 'critical' },
};

describe('renderTemplate', () => {
  it.each([
    ['CPU high on {{ $labels.host }}', 'CPU high on web-1.eu.example.com:9100'],
    ['value {{ $value }}', 'value 93.456'],
    ['{{ .Labels.alertname }} = {{ .Value }}', 'HighCpu = 93.456'],
    ['{{ $labels.missing }}|', '|'],
    ['{{ $labels.missing | default "?" }}', '?'],
    ['{{ $labels.alertname | default "?" }}', 'HighCpu'],
    ['{{ humanize $value }}', '93.46'],
    ['{{ $value | humanize }}', '93.46'],
    ['{{ printf "%.1f" $value }}%', '93.5%'],
    ['{{ index $labels "alertname" }}', 'HighCpu'],
    ['{{ $labels.host | stripPort | stripDomain }}', 'web-1'],
    ['{{ $labels.severity | toUpper }}', 'CRITICAL'],
    ['{{ $rule.metric }} ({{ $rule.kind }})', 'cpu_usage (threshold)'],
    ['a  {{- " b " -}}  c', 'a b c'],
    ['x{{/* a comment */}}y', 'xy'],
    ['{{ $externalLabels.cluster }}', ''],
  ])('renders %j as %j', (template, expected) => {
    // Prepare / Act
    const result = renderTemplate(template, context);

    // Assess
    expect(result).toBe(expected);
  });

  it.each([
    [1234567, '1.235M'],
    [0.00123, '1.23m'],
    [0, '0'],
    [999, '999'],
    [12345, '12.35k'],
  ])('humanizes %d like Prometheus (%s)', (value, expected) => {
    // Prepare / Act / Assess
    expect(renderTemplate('{{ humanize $value }}', { labels: {}, value })).toBe(expected);
  });

  it.each([
    [0, '0s'],
    [59, '59s'],
    [90, '1m 30s'],
    [3725, '1h 2m 5s'],
    [90061, '1d 1h 1m 1s'],
    [0.25, '250ms'],
  ])('humanizes the duration %d s as %s', (value, expected) => {
    // Prepare / Act / Assess
    expect(renderTemplate('{{ humanizeDuration $value }}', { labels: {}, value })).toBe(expected);
  });

  it('formats percentages and binary prefixes', () => {
    // Prepare / Act / Assess
    expect(renderTemplate('{{ humanizePercentage $value }}', { labels: {}, value: 0.4567 })).toBe('45.67%');
    expect(renderTemplate('{{ humanize1024 $value }}', { labels: {}, value: 2048 })).toBe('2ki');
  });

  it('renders an unknown value as empty when there is none', () => {
    // Prepare / Act / Assess
    expect(renderTemplate('[{{ $value }}]', { labels: {} })).toBe('[]');
    expect(renderTemplate('[{{ humanize $value }}]', { labels: {} })).toBe('[]');
  });

  it('never evaluates code or reaches inherited properties', () => {
    // Prepare
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a JavaScript placeholder must stay inert text.
    const placeholder = '${process.exit(1)}';
    const hostile = [
      '{{ $labels.constructor }}',
      '{{ $labels.__proto__ }}',
      '{{ $labels.toString }}',
      '{{ index $labels "constructor" }}',
      '{{ process.exit }}',
      placeholder,
    ];

    // Act
    const results = hostile.map((text) => renderTemplate(text, context));

    // Assess
    expect(results).toEqual(['', '', '', '', '{{ process.exit }}', placeholder]);
  });

  it('renders a template it cannot parse as its literal text instead of throwing', () => {
    // Prepare / Act / Assess
    expect(renderTemplate('{{ if $value }}x{{ end }}', context)).toBe('{{ if $value }}x{{ end }}');
    expect(renderTemplate('broken {{ $labels.host', context)).toBe('broken {{ $labels.host');
  });

  it('caps the output at 1 KB of UTF-8, ending with an ellipsis', () => {
    // Prepare
    const long = { labels: { text: 'é'.repeat(2000) } };

    // Act
    const result = renderTemplate('{{ $labels.text }}{{ $labels.text }}', long);

    // Assess
    expect(new TextEncoder().encode(result).length).toBeLessThanOrEqual(MAX_RENDERED_BYTES);
    expect(result.endsWith('…')).toBe(true);
    expect(result.startsWith('éé')).toBe(true);
  });
});

describe('templateProblem', () => {
  it('accepts the supported language', () => {
    // Prepare / Act / Assess
    expect(
      templateProblem('{{ $labels.host | default "?" | toUpper }} at {{ humanize $value }}'),
    ).toBeUndefined();
    expect(templateProblem('no actions at all')).toBeUndefined();
  });

  it.each([
    ['{{ $labels.host', 'unclosed action'],
    ['{{ nosuch $value }}', 'unknown function "nosuch"'],
    ['{{ if $value }}x{{ end }}', '"if" blocks are not supported'],
    ['{{ $foo }}', 'undefined variable "$foo"'],
    ['{{ humanize }}', 'function "humanize" takes 1 arguments, got 0'],
    ['{{ humanize (index $labels "x") }}', 'parentheses are not supported'],
    ['{{ $value := 1 }}', 'variable assignment is not supported'],
    ['{{ }}', 'empty action'],
  ])('names the problem in %j', (template, message) => {
    // Prepare / Act
    const problem = templateProblem(template);

    // Assess
    expect(problem).toContain(message);
  });
});
