import { type Issue, ValidationError } from '../../../errors';
import { type LabelMatcher, matches, parseChannel } from '../../channels';
import { describe, preview } from '../../ingest/inspect';
import { LABEL_KEY_PATTERN } from '../../ingest/limits';

/**
 * Label sets and matchers as Alertmanager handles them. Matchers are parsed and evaluated by the
 * metric-channel parser (domain/channels.ts), so alert routes, inhibition rules, silences and live
 * channels share one grammar: `=`, `!=`, `=~`, `!~`, double-quoted values with Go escapes, regexes
 * fully anchored and screened for catastrophic backtracking, a missing label counting as "".
 */

export type Labels = Readonly<Record<string, string>>;
export type { LabelMatcher };

/** The metric name the matcher text is wrapped in to reuse the channel parser. */
const HOST_METRIC = 'alert';

/**
 * The matchers of several texts (the repeated `filter` query parameters of the v2 API), each
 * parsed by {@link parseMatcherText} as `${name}[i]`; problems are added to `issues`.
 */
export function parseMatcherTexts(texts: readonly string[], name: string, issues: Issue[]): LabelMatcher[] {
  return texts.flatMap((text, i) => {
    try {
      return parseMatcherText(text, `${name}[${i}]`);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
      return [];
    }
  });
}

/**
 * Parses one Alertmanager matcher string: `severity="critical"`, `env=~"prod|stage"`, several
 * comma-separated ones, optionally in braces (`{a="1",b!="2"}`), or the unquoted form Alertmanager
 * also accepts (`severity=critical`). Throws a {@link ValidationError} naming `path`.
 */
export function parseMatcherText(text: string, path: string): LabelMatcher[] {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ValidationError(`${path}: a matcher is a non-empty string like severity="critical"`, [
      { path, message: 'expected a non-empty string' },
    ]);
  }
  let body = text.trim();
  if (body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1);
  body = quoteBareValue(body);
  try {
    const channel = parseChannel(`metrics:${HOST_METRIC}{${body}}`);
    return channel.kind === 'metrics' ? [...channel.matchers] : [];
  } catch (error) {
    const raw = (error as Error & { reason?: string }).reason ?? (error as Error).message;
    // Character positions refer to the wrapped channel text, not to the caller's: drop them.
    const reason = raw.replace(/ \(at character \d+\)$/, '');
    const message = `${path}: invalid matcher ${JSON.stringify(text)}: ${reason}`;
    throw new ValidationError(message, [{ path, message: reason }]);
  }
}

/** `name=value` (one matcher, value unquoted) → `name="value"`; anything else is returned as it is. */
function quoteBareValue(body: string): string {
  const bare = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*([^"\s][^"]*?)\s*$/.exec(body);
  if (!bare || bare[3]?.includes(',')) return body;
  return `${bare[1]}${bare[2]}"${escapeGo(bare[3] as string)}"`;
}

/**
 * Builds a matcher from the API form silences use (`{name, value, isRegex, isEqual}`). Equality
 * values are taken literally (no length limit beyond the caller's); regexes go through the channel
 * parser for anchoring and the backtracking screen.
 */
export function matcherFromParts(
  name: string,
  value: string,
  isRegex: boolean,
  isEqual: boolean,
  path: string,
): LabelMatcher {
  if (typeof name !== 'string' || !LABEL_KEY_PATTERN.test(name)) {
    // Never JSON.stringify untrusted input here: a value nested 20 000 deep overflows the stack.
    const shown = typeof name === 'string' ? preview(name) : describe(name);
    const message = `label name ${shown} must match [a-zA-Z_][a-zA-Z0-9_]*`;
    throw new ValidationError(`${path}: ${message}`, [{ path: `${path}.name`, message }]);
  }
  if (typeof value !== 'string') {
    throw new ValidationError(`${path}: value must be a string`, [
      { path: `${path}.value`, message: 'expected a string' },
    ]);
  }
  if (!isRegex) return { label: name, op: isEqual ? '=' : '!=', value };
  const [matcher] = parseMatcherText(`${name}${isEqual ? '=~' : '!~'}"${escapeGo(value)}"`, path);
  return matcher as LabelMatcher;
}

/** Whether every matcher holds for the label set (a missing label is ""). */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Labels): boolean {
  if (matchers.length === 0) return true;
  return matches(
    { kind: 'metrics', metric: HOST_METRIC, matchers, text: '' },
    { name: HOST_METRIC, labels, value: 0, timestamp: 0 },
  );
}

/** Whether a matcher holds for a label set that lacks its label (Alertmanager's "matches the empty string"). */
export function matchesEmpty(matcher: LabelMatcher): boolean {
  return matchesAll([matcher], {});
}

const OP_ORDER: Readonly<Record<LabelMatcher['op'], number>> = { '=': 0, '!=': 1, '=~': 2, '!~': 3 };

/** Alertmanager's `Matchers.Less`: by name, then value, then type (=, !=, =~, !~). */
export function sortMatchers(matchers: readonly LabelMatcher[]): LabelMatcher[] {
  return [...matchers].sort(
    (a, b) =>
      compareStrings(a.label, b.label) || compareStrings(a.value, b.value) || OP_ORDER[a.op] - OP_ORDER[b.op],
  );
}

/** Alertmanager's `Matchers.String()`: `{name="value",env=~"prod|stage"}`, values OpenMetrics-escaped. */
export function formatMatchers(matchers: readonly LabelMatcher[]): string {
  const escapeValue = (value: string) => value.replace(/[\\\n"]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
  return `{${matchers.map((m) => `${m.label}${m.op}"${escapeValue(m.value)}"`).join(',')}}`;
}

/**
 * Prometheus's `LabelSet.String()`: `{alertname="HighCPU", host="web-1"}`: each pair formatted as
 * `name=%q`, the formatted pairs sorted as strings (not by name: `a0="x"` sorts before `a="x"`),
 * joined with ", ".
 */
export function formatLabelSet(labels: Labels): string {
  const pairs = Object.keys(labels).map((name) => `${name}=${goQuote(labels[name] as string)}`);
  return `{${pairs.sort(compareStrings).join(', ')}}`;
}

/** Go's `strconv.Quote` for the characters label values hold (non-ASCII printables are kept). */
export function goQuote(value: string): string {
  return `"${escapeGo(value)}"`;
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
  '"': '\\"',
};

function escapeGo(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    const simple = GO_ESCAPES[char];
    if (simple !== undefined) out += simple;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16)}`;
    else out += char;
  }
  return out;
}

/** Go's string comparison: by UTF-8 bytes, which is code point order (JavaScript's `<` compares UTF-16 units). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const left = [...a];
  const right = [...b];
  const n = Math.min(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const x = left[i]?.codePointAt(0) as number;
    const y = right[i]?.codePointAt(0) as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return left.length - right.length;
}

/**
 * Prometheus's `LabelSet.Before`: fewer labels first; otherwise walk the union of names in order
 * and compare values, a set lacking a name sorting first.
 */
export function labelSetBefore(a: Labels, b: Labels): boolean {
  const aNames = Object.keys(a);
  const bNames = Object.keys(b);
  if (aNames.length !== bNames.length) return aNames.length < bNames.length;
  const names = [...aNames, ...bNames].sort(compareStrings);
  for (const name of names) {
    if (!Object.hasOwn(a, name)) return true;
    if (!Object.hasOwn(b, name)) return false;
    const order = compareStrings(a[name] as string, b[name] as string);
    if (order !== 0) return order < 0;
  }
  return false;
}
