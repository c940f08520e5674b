/**
 * Alert annotation templates: a small, safe subset of the Go `text/template` language Prometheus
 * uses for alerting rules. Nothing is ever evaluated as code: a template is literal text with
 * `{{ … }}` actions, each a pipeline of at most a few commands over the alert's data.
 *
 * Data:
 *   `$labels` / `.Labels`     the alert's labels: the series labels plus `alertname`, `severity`
 *                             and the rule's labels (Prometheus gives only the series labels; these
 *                             are a superset). `$labels.host` reads one; a missing one is empty.
 *   `$value` / `.Value`       the evaluated value (see `AlertTransition.value`); empty when unknown.
 *   `$rule`                   `$rule.name`, `$rule.metric`, `$rule.kind`, `$rule.severity`.
 *   `$externalLabels`         always empty (accepted so Prometheus rules can be pasted in).
 *
 * Functions: `humanize`, `humanize1024`, `humanizePercentage`, `humanizeDuration` (Prometheus's
 * definitions), `printf` (verbs `%s %v %d %f %g %e %%` with an optional precision), `index $labels
 * "name"`, `default "fallback" x` (Sprig's: `x` unless it renders empty), `toUpper`, `toLower`,
 * `title`, `stripPort`, `stripDomain`. Pipelines pass the previous result as the last argument:
 * `{{ $labels.host | default "?" }}`, `{{ $value | humanizePercentage }}`. `{{- … -}}` trims the
 * whitespace beside an action, and `{{/* … *\/}}` is a comment.
 *
 * Control structures (`if`, `range`, `with`, `define`, `template`), parentheses and variable
 * assignment are not supported. {@link templateProblem} names such problems when a rule is parsed;
 * {@link renderTemplate} never throws: an action it cannot evaluate renders as the empty string.
 */

/** The largest rendered annotation, in UTF-8 bytes; longer output ends with `…`. */
export const MAX_RENDERED_BYTES = 1024;

/** What a template can read. */
export interface TemplateContext {
  readonly labels: Readonly<Record<string, string>>;
  readonly value?: number | undefined;
  readonly rule?: Readonly<{ name: string; metric: string; kind: string; severity: string }>;
}

/** Renders a template against an alert; never throws, and caps the output at {@link MAX_RENDERED_BYTES}. */
export function renderTemplate(text: string, context: TemplateContext): string {
  const parsed = parseTemplate(text);
  if (typeof parsed === 'string') return capBytes(text);
  let out = '';
  for (const part of parsed) {
    out += typeof part === 'string' ? part : renderValue(runPipeline(part, context));
    if (out.length > MAX_RENDERED_BYTES * 4) break;
  }
  return capBytes(out);
}

/** Why a template cannot be rendered as written (a syntax error, an unknown function), or `undefined`. */
export function templateProblem(text: string): string | undefined {
  const parsed = parseTemplate(text);
  return typeof parsed === 'string' ? parsed : undefined;
}

// ---- parsing -----------------------------------------------------------------------------------

type Value = string | number | Readonly<Record<string, string>> | undefined;

type Operand =
  | { readonly kind: 'literal'; readonly value: string | number }
  | {
      readonly kind: 'var';
      readonly root: 'labels' | 'value' | 'rule' | 'external';
      readonly path: string[];
    };

interface Command {
  readonly fn?: string;
  readonly args: readonly Operand[];
}

type Pipeline = readonly Command[];
type Part = string | Pipeline;

interface FunctionSpec {
  readonly min: number;
  readonly max: number;
  readonly call: (args: readonly Value[]) => Value;
}

const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  humanize: { min: 1, max: 1, call: ([v]) => numeric(v, humanize) },
  humanize1024: { min: 1, max: 1, call: ([v]) => numeric(v, humanize1024) },
  humanizePercentage: { min: 1, max: 1, call: ([v]) => numeric(v, (n) => `${formatG(n * 100, 4)}%`) },
  humanizeDuration: { min: 1, max: 1, call: ([v]) => numeric(v, humanizeDuration) },
  printf: { min: 1, max: 8, call: ([format, ...rest]) => printf(renderValue(format), rest) },
  index: {
    min: 2,
    max: 2,
    call: ([map, key]) => (isMap(map) && typeof key === 'string' ? lookup(map, key) : undefined),
  },
  default: {
    min: 2,
    max: 2,
    call: ([fallback, value]) => (renderValue(value) === '' ? fallback : value),
  },
  toUpper: { min: 1, max: 1, call: ([v]) => renderValue(v).toUpperCase() },
  toLower: { min: 1, max: 1, call: ([v]) => renderValue(v).toLowerCase() },
  title: {
    min: 1,
    max: 1,
    call: ([v]) => renderValue(v).replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_, a, b) => a + b.toUpperCase()),
  },
  stripPort: { min: 1, max: 1, call: ([v]) => stripPort(renderValue(v)) },
  stripDomain: { min: 1, max: 1, call: ([v]) => stripDomain(renderValue(v)) },
};

const UNSUPPORTED_KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
]);
const MAX_ACTIONS = 64;
const MAX_COMMANDS = 4;

const templateCache = new Map<string, Part[] | string>();

/** The parts of a template, or why it cannot be parsed. Small and memoized: rules repeat templates. */
function parseTemplate(text: string): Part[] | string {
  const cached = templateCache.get(text);
  if (cached !== undefined) return cached;
  const parsed = parseUncached(text);
  if (templateCache.size > 500) templateCache.clear();
  templateCache.set(text, parsed);
  return parsed;
}

function parseUncached(text: string): Part[] | string {
  const parts: Part[] = [];
  let pos = 0;
  let actions = 0;
  while (pos < text.length) {
    const open = text.indexOf('{{', pos);
    if (open === -1) {
      parts.push(text.slice(pos));
      break;
    }
    const close = text.indexOf('}}', open + 2);
    if (close === -1) return `unclosed action starting at character ${open + 1}`;
    if (++actions > MAX_ACTIONS) return `more than ${MAX_ACTIONS} actions`;
    let inner = text.slice(open + 2, close);
    let literal = text.slice(pos, open);
    if (inner.startsWith('-') && /^-\s/.test(inner)) {
      literal = literal.trimEnd();
      inner = inner.slice(1);
    }
    pos = close + 2;
    if (inner.endsWith('-') && /\s-$/.test(inner)) {
      inner = inner.slice(0, -1);
      const rest = /^\s*/.exec(text.slice(pos))?.[0] ?? '';
      pos += rest.length;
    }
    if (literal !== '') parts.push(literal);
    const trimmed = inner.trim();
    if (trimmed.startsWith('/*')) {
      if (!trimmed.endsWith('*/')) return `unclosed comment at character ${open + 1}`;
      continue;
    }
    const pipeline = parsePipeline(trimmed);
    if (typeof pipeline === 'string') return `${pipeline} in action at character ${open + 1}`;
    parts.push(pipeline);
  }
  return parts;
}

const TOKEN =
  /\s*(?:(?<str>"(?:[^"\\]|\\.)*")|(?<raw>`[^`]*`)|(?<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?<pipe>\|)|(?<var>\$[a-zA-Z_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)*|\.(?:[a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)*)?)|(?<ident>[a-zA-Z_][a-zA-Z0-9_]*)|(?<other>\S))/y;

function parsePipeline(source: string): Pipeline | string {
  if (source === '') return 'empty action';
  const commands: Command[] = [];
  let current: { fn?: string; args: Operand[] } = { args: [] };
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    const match = TOKEN.exec(source);
    const groups = match?.groups;
    if (!match || !groups) break;
    if (match[0].trim() === '') break;
    if (groups.pipe) {
      if (!current.fn && current.args.length === 0) return 'empty command before "|"';
      commands.push(current);
      current = { args: [] };
    } else if (groups.ident) {
      const name = groups.ident;
      if (UNSUPPORTED_KEYWORDS.has(name)) return `"${name}" blocks are not supported`;
      if (current.fn || current.args.length > 0) return `function "${name}" must start a command`;
      if (!Object.hasOwn(FUNCTIONS, name)) return `unknown function "${name}"`;
      current.fn = name;
    } else if (groups.str !== undefined) {
      const decoded = decodeString(groups.str);
      if (decoded === undefined) return `invalid string ${groups.str}`;
      current.args.push({ kind: 'literal', value: decoded });
    } else if (groups.raw !== undefined) {
      current.args.push({ kind: 'literal', value: groups.raw.slice(1, -1) });
    } else if (groups.num !== undefined) {
      current.args.push({ kind: 'literal', value: Number(groups.num) });
    } else if (groups.var !== undefined) {
      const operand = variable(groups.var);
      if (typeof operand === 'string') return operand;
      current.args.push(operand);
    } else {
      const char = groups.other ?? '';
      if (char === '(' || char === ')') return 'parentheses are not supported';
      if (char === ':' || char === '=') return 'variable assignment is not supported';
      return `unexpected "${char}"`;
    }
  }
  if (!current.fn && current.args.length === 0) return 'empty command at the end of a pipeline';
  commands.push(current);
  if (commands.length > MAX_COMMANDS) return `more than ${MAX_COMMANDS} commands in one pipeline`;
  for (const [i, command] of commands.entries()) {
    const passed = i > 0 ? 1 : 0;
    if (!command.fn) {
      if (command.args.length !== 1 || passed) return 'a command without a function takes exactly one value';
      continue;
    }
    const spec = FUNCTIONS[command.fn] as FunctionSpec;
    const count = command.args.length + passed;
    if (count < spec.min || count > spec.max) {
      return `function "${command.fn}" takes ${spec.min === spec.max ? spec.min : `${spec.min}–${spec.max}`} arguments, got ${count}`;
    }
  }
  return commands;
}

function variable(text: string): Operand | string {
  const [head = '', ...path] = text.split('.');
  const roots: Readonly<Record<string, 'labels' | 'value' | 'rule' | 'external'>> = {
    $labels: 'labels',
    $value: 'value',
    $rule: 'rule',
    $externalLabels: 'external',
  };
  if (head === '') {
    // `.Labels.x`, `.Value`, `.ExternalLabels`: the data Prometheus binds its variables to.
    const [field = '', ...rest] = path;
    const root = ({ Labels: 'labels', Value: 'value', ExternalLabels: 'external' } as const)[
      field as 'Labels' | 'Value' | 'ExternalLabels'
    ];
    if (!root) return `unknown field ".${field}"`;
    return { kind: 'var', root, path: rest };
  }
  const root = Object.hasOwn(roots, head) ? roots[head] : undefined;
  if (!root) return `undefined variable "${head}"`;
  return { kind: 'var', root, path };
}

function decodeString(quoted: string): string | undefined {
  try {
    const value: unknown = JSON.parse(quoted);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

// ---- evaluation --------------------------------------------------------------------------------

function runPipeline(pipeline: Pipeline, context: TemplateContext): Value {
  let result: Value;
  for (const [i, command] of pipeline.entries()) {
    const args = command.args.map((operand) => resolve(operand, context));
    if (i > 0) args.push(result);
    if (!command.fn) {
      result = args[0];
      continue;
    }
    try {
      result = (FUNCTIONS[command.fn] as FunctionSpec).call(args);
    } catch {
      return undefined;
    }
  }
  return result;
}

function resolve(operand: Operand, context: TemplateContext): Value {
  if (operand.kind === 'literal') return operand.value;
  let base: Value;
  if (operand.root === 'labels') base = context.labels;
  else if (operand.root === 'value') base = context.value;
  else if (operand.root === 'rule') base = context.rule;
  else base = {};
  for (const key of operand.path) base = isMap(base) ? lookup(base, key) : undefined;
  return base;
}

function lookup(map: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function isMap(value: Value): value is Readonly<Record<string, string>> {
  return typeof value === 'object' && value !== null;
}

/** How a value prints: numbers as JavaScript writes them, maps as Go prints them (`map[a:b]`). */
function renderValue(value: Value): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  const keys = Object.keys(value).sort();
  return `map[${keys.map((key) => `${key}:${value[key]}`).join(' ')}]`;
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function numeric(value: Value, format: (n: number) => string): string | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (typeof value === 'string' && (value.trim() === '' || Number.isNaN(n))) return undefined;
  if (value === undefined || typeof value === 'object') return undefined;
  return format(n);
}

/** Go's `%.{precision}g`: shortest form, trailing zeros dropped, exponent with at least two digits. */
function formatG(value: number, precision: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const exponent = Math.floor(Math.log10(Math.abs(Number(value.toPrecision(precision)))));
  if (exponent < -4 || exponent >= precision) {
    const [mantissa = '', exp = '0'] = value.toExponential(precision - 1).split('e');
    const expNumber = Number(exp);
    const expText = `${expNumber < 0 ? '-' : '+'}${String(Math.abs(expNumber)).padStart(2, '0')}`;
    return `${stripZeros(mantissa)}e${expText}`;
  }
  return stripZeros(value.toFixed(Math.max(0, precision - 1 - exponent)));
}

function stripZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

const BIG_PREFIXES = ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const SMALL_PREFIXES = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];

function humanize(input: number): string {
  let v = input;
  if (v === 0 || !Number.isFinite(v)) return formatG(v, 4);
  let prefix = '';
  if (Math.abs(v) >= 1) {
    for (const p of BIG_PREFIXES) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
  } else {
    for (const p of SMALL_PREFIXES) {
      if (Math.abs(v) >= 1) break;
      prefix = p;
      v *= 1000;
    }
  }
  return `${formatG(v, 4)}${prefix}`;
}

function humanize1024(input: number): string {
  let v = input;
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return formatG(v, 4);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return `${formatG(v, 4)}${prefix}`;
}

function humanizeDuration(input: number): string {
  let v = input;
  if (!Number.isFinite(v)) return formatG(v, 4);
  if (v === 0) return '0s';
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    v = Math.abs(v);
    const total = Math.trunc(v);
    const seconds = total % 60;
    const minutes = Math.trunc(total / 60) % 60;
    const hours = Math.trunc(total / 3600) % 24;
    const days = Math.trunc(total / 86_400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${formatG(v, 4)}s`;
  }
  let prefix = '';
  for (const p of SMALL_PREFIXES) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${formatG(v, 4)}${prefix}s`;
}

const VERB = /%(%|(?:\.(\d{1,2}))?([svdfge]))/g;

function printf(format: string, args: readonly Value[]): string {
  let next = 0;
  return format.replace(VERB, (whole, _spec, precision: string | undefined, verb: string | undefined) => {
    if (whole === '%%') return '%';
    const arg = args[next++];
    const digits = precision === undefined ? undefined : Number(precision);
    if (verb === 's' || verb === 'v') return renderValue(arg);
    const n = typeof arg === 'number' ? arg : typeof arg === 'string' ? Number(arg) : Number.NaN;
    if (!Number.isFinite(n)) return renderValue(arg);
    if (verb === 'd') return Number.isInteger(n) ? String(n) : renderValue(arg);
    if (verb === 'f') return n.toFixed(digits ?? 6);
    if (verb === 'e') return n.toExponential(digits ?? 6).replace(/e([-+])(\d)$/, 'e$10$2');
    return digits === undefined ? formatNumber(n) : formatG(n, Math.max(1, digits));
  });
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(1, end);
  }
  const colons = host.split(':').length - 1;
  return colons === 1 ? host.slice(0, host.indexOf(':')) : host;
}

function stripDomain(host: string): string {
  const port = host.startsWith('[') ? '' : (/:\d+$/.exec(host)?.[0] ?? '');
  const name = port ? host.slice(0, -port.length) : host;
  if (/^[\d.]+$/.test(name) || name.includes(':')) return host;
  return (name.split('.')[0] ?? '') + port;
}

/** Cuts `text` to at most {@link MAX_RENDERED_BYTES} UTF-8 bytes, ending with `…` when cut. */
function capBytes(text: string): string {
  if (text.length <= MAX_RENDERED_BYTES / 3) return text;
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= MAX_RENDERED_BYTES) return text;
  const budget = MAX_RENDERED_BYTES - 3; // '…' is three bytes
  let bytes = 0;
  let out = '';
  for (const char of text) {
    const size = encoder.encode(char).length;
    if (bytes + size > budget) break;
    bytes += size;
    out += char;
  }
  return `${out}…`;
}
