import { ValidationError } from '../../errors';
import { preview } from './inspect';
import { MAX_DATAPOINTS_PER_REQUEST } from './limits';
import type { RawDatapoint } from './validate';

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
// Go's strconv.ParseFloat as the exposition format uses it, minus hex floats and underscores.
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;
const INTEGER = /^-?\d+$/;
const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

class LineError extends Error {}

/**
 * Reads the Prometheus text exposition format 0.0.4 (what the Pushgateway accepts) into one raw
 * datapoint per sample line: `name{label="value",...} value [timestamp_ms]`.
 *
 * - Lines may end in LF or CRLF; blank lines and comments are skipped. `# HELP` and `# TYPE` lines
 *   are only checked (a valid name; a known type; one TYPE per metric).
 * - Label values unescape `\\`, `\"` and `\n`; a trailing comma in the label set is allowed; blanks
 *   around the tokens of a label set are allowed.
 * - A label with an empty value is dropped: in Prometheus an empty label value means "no label".
 * - `NaN`, `+Inf` and `-Inf` parse as numbers (validation then rejects them as non-finite).
 * - Histogram and summary samples (`_bucket{le=…}`, `_sum`, `_count`, `{quantile=…}`) are plain
 *   samples here: each becomes its own datapoint.
 *
 * Never throws for a bad line: it becomes an item carrying a `problem` with its 1-based line number,
 * which validation rejects as `MALFORMED_ITEM`. Throws a `ValidationError` only when the text holds
 * more than {@link MAX_DATAPOINTS_PER_REQUEST} items.
 */
export function parsePrometheusText(text: string): RawDatapoint[] {
  const items: RawDatapoint[] = [];
  const typed = new Set<string>();
  const helped = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = (raw.endsWith('\r') ? raw.slice(0, -1) : raw).replace(/^[ \t]+|[ \t]+$/g, '');
    if (line === '') continue;
    const source = `line ${i + 1}`;
    let item: RawDatapoint | undefined;
    try {
      item = line.startsWith('#') ? checkComment(line, typed, helped) : { ...parseSample(line), source };
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      const message = `${error.message}: ${preview(line)}`;
      item = { name: undefined, value: undefined, source, problem: { code: 'MALFORMED_ITEM', message } };
    }
    if (item === undefined) continue;
    items.push(item);
    if (items.length > MAX_DATAPOINTS_PER_REQUEST) {
      throw new ValidationError(
        `Too many datapoints in one request: at most ${MAX_DATAPOINTS_PER_REQUEST} sample lines`,
      );
    }
  }
  return items;
}

function checkComment(line: string, typed: Set<string>, helped: Set<string>): undefined {
  const tokens = line
    .slice(1)
    .trim()
    .split(/[ \t]+/);
  const [keyword, name, ...rest] = tokens;
  if (keyword !== 'HELP' && keyword !== 'TYPE') return undefined;
  if (name === undefined || !fullMatch(METRIC_NAME, name)) {
    throw new LineError(`# ${keyword} must name a valid metric`);
  }
  if (keyword === 'HELP') {
    if (helped.has(name)) throw new LineError(`second # HELP for ${name}`);
    helped.add(name);
    return undefined;
  }
  const [type, ...extra] = rest;
  if (type === undefined || !METRIC_TYPES.has(type) || extra.length > 0) {
    throw new LineError(`# TYPE must be one of ${[...METRIC_TYPES].join(', ')}`);
  }
  if (typed.has(name)) throw new LineError(`second # TYPE for ${name}`);
  typed.add(name);
  return undefined;
}

function fullMatch(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(text) && pattern.lastIndex === text.length;
}

/** A cursor over one line. */
class Scanner {
  position = 0;
  constructor(readonly line: string) {}

  get done(): boolean {
    return this.position >= this.line.length;
  }

  peek(): string | undefined {
    return this.line[this.position];
  }

  skipBlanks(): boolean {
    const start = this.position;
    while (this.peek() === ' ' || this.peek() === '\t') this.position++;
    return this.position > start;
  }

  match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.position;
    const found = pattern.exec(this.line);
    if (!found) return undefined;
    this.position = pattern.lastIndex;
    return found[0];
  }

  expect(char: string, what: string): void {
    if (this.peek() !== char) throw new LineError(`expected ${what} at column ${this.position + 1}`);
    this.position++;
  }

  token(): string {
    const start = this.position;
    while (!this.done && this.peek() !== ' ' && this.peek() !== '\t') this.position++;
    return this.line.slice(start, this.position);
  }
}

function parseSample(line: string): RawDatapoint {
  const scanner = new Scanner(line);
  const name = scanner.match(METRIC_NAME);
  if (name === undefined) throw new LineError('expected a metric name');
  let blank = scanner.skipBlanks();
  let labels: Record<string, string> = {};
  if (scanner.peek() === '{') {
    labels = parseLabels(scanner);
    scanner.skipBlanks();
    blank = true; // a value may follow "}" directly
  }
  if (scanner.done) throw new LineError('expected a value after the metric name');
  if (!blank) throw new LineError(`unexpected ${JSON.stringify(scanner.peek())} in the metric name`);
  const value = parseValue(scanner.token());
  scanner.skipBlanks();
  let timestamp: number | undefined;
  if (!scanner.done) {
    const token = scanner.token();
    timestamp = Number(token);
    if (!INTEGER.test(token) || !Number.isSafeInteger(timestamp)) {
      throw new LineError(`timestamp ${preview(token, 30)} is not an integer of epoch milliseconds`);
    }
    scanner.skipBlanks();
    if (!scanner.done) throw new LineError('unexpected text after the timestamp');
  }
  return { name, value, timestamp, labels };
}

function parseLabels(scanner: Scanner): Record<string, string> {
  scanner.expect('{', '"{"');
  const labels = new Map<string, string>();
  for (;;) {
    scanner.skipBlanks();
    if (scanner.peek() === '}') break;
    const key = scanner.match(LABEL_NAME);
    if (key === undefined) throw new LineError(`expected a label name at column ${scanner.position + 1}`);
    scanner.skipBlanks();
    scanner.expect('=', '"=" after the label name');
    scanner.skipBlanks();
    const value = parseQuoted(scanner);
    if (labels.has(key)) throw new LineError(`label ${key} appears twice`);
    labels.set(key, value);
    scanner.skipBlanks();
    if (scanner.peek() === ',') {
      scanner.position++;
      continue;
    }
    if (scanner.peek() !== '}') throw new LineError(`expected "," or "}" at column ${scanner.position + 1}`);
  }
  scanner.position++;
  // fromEntries defines own properties: a "__proto__" label cannot reach a prototype.
  return Object.fromEntries([...labels].filter(([, value]) => value !== ''));
}

function parseQuoted(scanner: Scanner): string {
  scanner.expect('"', 'a quoted label value');
  let value = '';
  let start = scanner.position;
  for (;;) {
    const char = scanner.peek();
    if (char === undefined) throw new LineError('unterminated label value');
    if (char === '"') break;
    if (char === '\\') {
      value += scanner.line.slice(start, scanner.position);
      const escaped = scanner.line[scanner.position + 1];
      if (escaped === '\\' || escaped === '"') value += escaped;
      else if (escaped === 'n') value += '\n';
      else throw new LineError(`invalid escape \\${escaped ?? ''} in a label value (only \\\\, \\" and \\n)`);
      scanner.position += 2;
      start = scanner.position;
      continue;
    }
    scanner.position++;
  }
  value += scanner.line.slice(start, scanner.position);
  scanner.position++;
  return value;
}

function parseValue(token: string): number {
  if (!FLOAT.test(token)) throw new LineError(`value ${preview(token, 30)} is not a number`);
  return Number(token.replace(/inf(inity)?$/i, 'Infinity').replace(/^([+-]?)nan$/i, 'NaN'));
}
