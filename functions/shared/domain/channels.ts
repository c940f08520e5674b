import { ValidationError } from '../errors';
import { LABEL_KEY_PATTERN, METRIC_NAME_PATTERN } from './ingest/limits';
import type { Datapoint } from './metrics';

/**
 * The channels a WebSocket connection can subscribe to:
 *
 *   system_metrics | alerts | incidents                 plain channels, one message type each
 *   metrics:<metric_name>                               every point of one metric
 *   metrics:<metric_name>{<matcher>, …}                 the points whose labels satisfy every matcher
 *
 * A matcher is Prometheus's: `label="v"`, `label!="v"`, `label=~"regex"`, `label!~"regex"`. Values
 * are double-quoted with the escapes `\\ \" \' \n \r \t \uXXXX`; regexes are fully anchored, as in
 * Prometheus (`env=~"prod"` does not match `preprod`); a label a point lacks counts as the empty
 * string (`job!~"test.*"` matches a point with no `job`). Whitespace may separate tokens inside the
 * braces.
 *
 * Every channel has one canonical text (no whitespace, matchers sorted, values re-escaped) so that
 * equivalent spellings are one subscription, and an index key, the part subscriptions are looked up
 * by: the plain name, or `metrics:<metric_name>`. Matchers are evaluated in memory after that keyed
 * lookup.
 */

export const PLAIN_CHANNELS = ['system_metrics', 'alerts', 'incidents'] as const;
export type PlainChannelName = (typeof PLAIN_CHANNELS)[number];

/** The prefix of every metric channel. */
export const METRIC_CHANNEL_PREFIX = 'metrics:';
/** A channel text's maximum length, in characters, as the client sends it. */
export const MAX_CHANNEL_LENGTH = 256;
/** A regex matcher's maximum length after unescaping; long patterns are where backtracking hides. */
export const MAX_REGEX_LENGTH = 128;
/** The most unbounded quantifiers (`*`, `+`, `{n,}`) one regex may hold: `.*a.*b.*` is fine, `.*.*.*.*x` is not. */
export const MAX_UNBOUNDED_QUANTIFIERS = 3;

export interface PlainChannel {
  readonly kind: 'plain';
  readonly name: PlainChannelName;
  /** The canonical text: the name. */
  readonly text: string;
}

export type MatchOperator = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly label: string;
  readonly op: MatchOperator;
  /** The unescaped value: a literal for `=`/`!=`, a regex source for `=~`/`!~`. */
  readonly value: string;
  /** For `=~`/`!~`: the value compiled as `^(?:value)$`. */
  readonly regex?: RegExp;
}

export interface MetricChannel {
  readonly kind: 'metrics';
  readonly metric: string;
  /** Sorted and deduplicated; every one must hold for a point to match. */
  readonly matchers: readonly LabelMatcher[];
  /** The canonical text, e.g. `metrics:cpu_usage{env=~"prod|stage",host="web-1"}`. */
  readonly text: string;
}

export type Channel = PlainChannel | MetricChannel;

/** A channel text that breaks the grammar; the message names the channel and what is wrong with it. */
export class InvalidChannelError extends ValidationError {
  constructor(
    readonly channel: string,
    readonly reason: string,
  ) {
    super(`Invalid channel ${quoteForMessage(channel)}: ${reason}`);
  }
}

/** Parses and validates a channel text; throws {@link InvalidChannelError} naming what is wrong. */
export function parseChannel(text: string): Channel {
  const fail = (reason: string): never => {
    throw new InvalidChannelError(text, reason);
  };
  if (typeof text !== 'string' || text.length === 0) return fail('a channel is a non-empty string');
  if (text.length > MAX_CHANNEL_LENGTH) return fail(`longer than ${MAX_CHANNEL_LENGTH} characters`);
  if (!PRINTABLE_ASCII.test(text)) {
    return fail('only printable ASCII is allowed; write other characters in label values as \\uXXXX');
  }
  if ((PLAIN_CHANNELS as readonly string[]).includes(text)) {
    return { kind: 'plain', name: text as PlainChannelName, text };
  }
  if (!text.startsWith(METRIC_CHANNEL_PREFIX)) {
    return fail(`expected one of ${PLAIN_CHANNELS.join(', ')} or metrics:<metric_name>{<label matchers>}`);
  }
  return new MetricChannelParser(text, fail).parse();
}

/** The key subscriptions to this channel are stored and looked up by. */
export function indexKey(channel: Channel): string {
  return channel.kind === 'plain' ? channel.name : metricIndexKey(channel.metric);
}

/** The index key of every channel on one metric: `metrics:<metric_name>`. */
export function metricIndexKey(metricName: string): string {
  return `${METRIC_CHANNEL_PREFIX}${metricName}`;
}

/**
 * Whether a datapoint belongs on a channel: same metric name and every matcher holds. A label the
 * point lacks is the empty string, as in Prometheus. Plain channels carry no datapoints.
 */
export function matches(channel: Channel, point: Datapoint): boolean {
  if (channel.kind !== 'metrics' || channel.metric !== point.name) return false;
  return channel.matchers.every((matcher) =>
    matcherHolds(
      matcher,
      Object.hasOwn(point.labels, matcher.label) ? (point.labels[matcher.label] ?? '') : '',
    ),
  );
}

function matcherHolds(matcher: LabelMatcher, actual: string): boolean {
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return matcher.regex?.test(actual) === true;
    case '!~':
      return matcher.regex?.test(actual) === false;
  }
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const OPERATORS: readonly MatchOperator[] = ['=~', '!~', '!=', '='];
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  '"': '"',
  "'": "'",
  n: '\n',
  r: '\r',
  t: '\t',
};

/** A hand-written scanner: the grammar is small, and its errors can say exactly where it went wrong. */
class MetricChannelParser {
  private pos = METRIC_CHANNEL_PREFIX.length;

  constructor(
    private readonly text: string,
    private readonly fail: (reason: string) => never,
  ) {}

  parse(): MetricChannel {
    const metric = this.take(/[a-zA-Z0-9_:]*/y);
    if (metric === '') this.failHere('expected a metric name after "metrics:"');
    if (!METRIC_NAME_PATTERN.test(metric)) {
      this.fail(`metric name "${metric}" must match [a-zA-Z_:][a-zA-Z0-9_:]* (at most 200 characters)`);
    }
    this.skipSpaces();
    const matchers: LabelMatcher[] = [];
    if (this.peek() === '{') {
      this.pos++;
      this.skipSpaces();
      while (this.peek() !== '}') {
        matchers.push(this.matcher());
        this.skipSpaces();
        if (this.peek() === ',') {
          this.pos++;
          this.skipSpaces();
        } else if (this.peek() !== '}') {
          this.failHere(this.atEnd() ? 'missing closing "}"' : 'expected "," or "}" after a label matcher');
        }
      }
      this.pos++;
      this.skipSpaces();
    }
    if (!this.atEnd()) this.failHere('unexpected text after the channel');
    const canonical = canonicalMatchers(matchers);
    return { kind: 'metrics', metric, matchers: canonical, text: formatMetricChannel(metric, canonical) };
  }

  private matcher(): LabelMatcher {
    if (this.atEnd()) this.failHere('missing closing "}"');
    const label = this.take(/[a-zA-Z0-9_]*/y);
    if (label === '') this.failHere('expected a label name');
    if (!LABEL_KEY_PATTERN.test(label)) {
      this.fail(`label name "${label}" must match [a-zA-Z_][a-zA-Z0-9_]* (at most 100 characters)`);
    }
    if (label === '__name__') this.fail('the metric name goes before the braces, not in a __name__ matcher');
    this.skipSpaces();
    const op = OPERATORS.find((candidate) => this.text.startsWith(candidate, this.pos));
    if (!op) this.failHere(`expected =, !=, =~ or !~ after label "${label}"`);
    this.pos += op.length;
    this.skipSpaces();
    const value = this.quoted(label);
    if (op === '=~' || op === '!~')
      return { label, op, value, regex: compileMatcherRegex(label, value, this.fail) };
    return { label, op, value };
  }

  /** A double-quoted string with Go-style escapes, as PromQL writes label values. */
  private quoted(label: string): string {
    if (this.peek() !== '"') this.failHere(`the value of label "${label}" must be a double-quoted string`);
    this.pos++;
    let value = '';
    for (;;) {
      const char = this.peek();
      if (char === undefined) this.failHere(`unterminated string in the value of label "${label}"`);
      this.pos++;
      if (char === '"') return value;
      if (char !== '\\') {
        value += char;
        continue;
      }
      const escaped = this.peek();
      if (escaped === undefined) this.failHere(`unterminated string in the value of label "${label}"`);
      this.pos++;
      const simple = Object.hasOwn(SIMPLE_ESCAPES, escaped) ? SIMPLE_ESCAPES[escaped] : undefined;
      if (simple !== undefined) {
        value += simple;
      } else if (escaped === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos, this.pos + 4))) {
        value += String.fromCharCode(Number.parseInt(this.text.slice(this.pos, this.pos + 4), 16));
        this.pos += 4;
      } else {
        this.pos--;
        this.failHere(
          `unknown escape "\\${escaped}" in the value of label "${label}" (write \\\\ for a backslash)`,
        );
      }
    }
  }

  private take(pattern: RegExp): string {
    pattern.lastIndex = this.pos;
    const found = pattern.exec(this.text)?.[0] ?? '';
    this.pos += found.length;
    return found;
  }

  private skipSpaces(): void {
    while (this.peek() === ' ') this.pos++;
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private failHere(reason: string): never {
    return this.fail(`${reason} (at character ${this.pos + 1})`);
  }
}

/**
 * Compiles a regex matcher anchored as Prometheus anchors it, `^(?:value)$`, with `.` matching
 * newlines (Prometheus 3). JavaScript's engine backtracks where Prometheus's RE2 does not, so
 * patterns are first checked for the shapes that backtrack badly, and for RE2-incompatible syntax.
 */
function compileMatcherRegex(label: string, source: string, fail: (reason: string) => never): RegExp {
  const problem = regexProblem(source);
  if (problem) return fail(`the regex of label "${label}" ${problem}`);
  try {
    // Compiled alone first: an unbalanced ")" would otherwise escape the anchoring group.
    new RegExp(source, 'su');
    return new RegExp(`^(?:${source})$`, 'su');
  } catch (error) {
    const detail = (error as Error).message.split(': ').pop();
    return fail(`the regex of label "${label}" is not a valid regular expression (${detail})`);
  }
}

interface GroupScan {
  repeats: boolean;
  alternates: boolean;
}

/**
 * Why a regex source is refused, or `undefined`. A cheap structural scan, not a proof: it refuses
 * over-long patterns, backreferences and lookaround (RE2 has neither), a repeated group that holds
 * a repetition or an alternation (`(a+)+`, `(a|aa)*`: exponential backtracking), and more than
 * {@link MAX_UNBOUNDED_QUANTIFIERS} unbounded quantifiers (polynomial backtracking).
 */
export function regexProblem(source: string): string | undefined {
  if (source.length > MAX_REGEX_LENGTH) return `is longer than ${MAX_REGEX_LENGTH} characters`;
  const groups: GroupScan[] = [{ repeats: false, alternates: false }];
  let unbounded = 0;
  let inClass = false;
  for (let i = 0; i < source.length; ) {
    const char = source[i] as string;
    const top = groups[groups.length - 1] as GroupScan;
    if (char === '\\') {
      const next = source[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || next === 'k')) return 'uses a backreference (RE2 has none)';
      i += 2;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      i++;
      continue;
    }
    if (char === '[') {
      inClass = true;
      i++;
      continue;
    }
    if (char === '(') {
      if (/^\(\?<?[=!]/.test(source.slice(i, i + 4))) return 'uses lookaround (RE2 has none)';
      groups.push({ repeats: false, alternates: false });
      i++;
      continue;
    }
    if (char === ')') {
      if (groups.length === 1) return 'has an unmatched ")"';
      groups.pop();
      const parent = groups[groups.length - 1] as GroupScan;
      const quantifier = readQuantifier(source, i + 1);
      if (quantifier?.repeats && (top.repeats || top.alternates)) {
        return 'repeats a group that itself repeats or alternates, which can backtrack for a very long time';
      }
      parent.repeats ||= top.repeats || quantifier?.repeats === true;
      parent.alternates ||= top.alternates;
      if (quantifier?.unbounded) unbounded++;
      i += 1 + (quantifier?.length ?? 0);
      continue;
    }
    if (char === '|') {
      top.alternates = true;
      i++;
      continue;
    }
    const quantifier = readQuantifier(source, i);
    if (quantifier) {
      top.repeats ||= quantifier.repeats;
      if (quantifier.unbounded) unbounded++;
      i += quantifier.length;
      continue;
    }
    i++;
  }
  if (unbounded > MAX_UNBOUNDED_QUANTIFIERS) {
    return `has more than ${MAX_UNBOUNDED_QUANTIFIERS} unbounded quantifiers (*, +, {n,})`;
  }
  return undefined;
}

/** The quantifier starting at `at`, if any: whether it can repeat and whether without bound. */
function readQuantifier(
  source: string,
  at: number,
): { repeats: boolean; unbounded: boolean; length: number } | undefined {
  const char = source[at];
  let found: { repeats: boolean; unbounded: boolean; length: number } | undefined;
  if (char === '*' || char === '+') found = { repeats: true, unbounded: true, length: 1 };
  else if (char === '?') found = { repeats: false, unbounded: false, length: 1 };
  else if (char === '{') {
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at));
    if (!braces) return undefined;
    const max = braces[2] === undefined ? Number(braces[1]) : braces[3] ? Number(braces[3]) : Infinity;
    found = { repeats: max > 1, unbounded: max === Infinity, length: braces[0].length };
  }
  if (found && source[at + found.length] === '?') found.length++;
  return found;
}

function canonicalMatchers(matchers: readonly LabelMatcher[]): LabelMatcher[] {
  const byKey = new Map<string, LabelMatcher>();
  for (const matcher of matchers) byKey.set(formatMatcher(matcher), matcher);
  return [...byKey.keys()].sort().map((key) => byKey.get(key) as LabelMatcher);
}

function formatMetricChannel(metric: string, matchers: readonly LabelMatcher[]): string {
  const base = metricIndexKey(metric);
  return matchers.length === 0 ? base : `${base}{${matchers.map(formatMatcher).join(',')}}`;
}

function formatMatcher(matcher: LabelMatcher): string {
  return `${matcher.label}${matcher.op}"${escapeValue(matcher.value)}"`;
}

/** Escapes a value back into printable ASCII; never longer than the escaped text it was parsed from. */
function escapeValue(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (char === '\\' || char === '"') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code >= 0x20 && code <= 0x7e) out += char;
    else for (const unit of unitsOf(char)) out += `\\u${unit.toString(16).padStart(4, '0')}`;
  }
  return out;
}

function unitsOf(char: string): number[] {
  return Array.from({ length: char.length }, (_, i) => char.charCodeAt(i));
}

function quoteForMessage(channel: string): string {
  return JSON.stringify(channel.length > 80 ? `${channel.slice(0, 80)}…` : channel);
}
