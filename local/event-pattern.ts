/**
 * EventBridge event pattern matching (content filtering), following
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html and
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 *
 * A pattern object matches when every field matches (AND); a field's array of matchers matches
 * when any matcher does (OR); an array value in the event matches when any element does.
 * Every matcher except `{exists: false}` requires the field to be present.
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when `event` matches the EventBridge `pattern` (an object, as in a rule's EventPattern). */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (typeof pattern === 'string') return matchesEventPattern(JSON.parse(pattern), event);
  if (!isObject(pattern)) throw new Error('An event pattern must be a JSON object');
  return matchObject(pattern, event);
}

function matchObject(pattern: Record<string, unknown>, value: unknown): boolean {
  // A pattern on fields of an array of objects matches when any element matches.
  if (Array.isArray(value)) return value.some((v) => matchObject(pattern, v));
  const obj = isObject(value) ? value : {};
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(sub) || !sub.some((alt) => isObject(alt) && matchObject(alt, obj))) return false;
      continue;
    }
    const present = Object.hasOwn(obj, key);
    const field = obj[key];
    if (isObject(sub)) {
      if (!matchObject(sub, present ? field : undefined)) return false;
    } else if (Array.isArray(sub)) {
      if (!matchField(sub, present, field)) return false;
    } else {
      throw new Error(`Event pattern field '${key}' must be an array or an object`);
    }
  }
  return true;
}

/** One field against its list of matchers. */
function matchField(matchers: unknown[], present: boolean, value: unknown): boolean {
  const values: unknown[] = Array.isArray(value) ? value : [value];
  return matchers.some((m) => {
    if (isObject(m) && 'exists' in m) return existsMatches(m.exists === true, present, value);
    if (!present) return false;
    if (isObject(m) && 'anything-but' in m) return values.some((v) => anythingBut(m['anything-but'], v));
    return values.some((v) => matchLeaf(m, v));
  });
}

/** `exists` applies to leaf values only: an object is not a leaf. */
function existsMatches(wanted: boolean, present: boolean, value: unknown): boolean {
  const leaf = present && !isObject(value) && !(Array.isArray(value) && value.length === 0);
  return wanted ? leaf : !present;
}

function matchLeaf(m: unknown, v: unknown): boolean {
  if (!isObject(m)) return m === v;
  if ('prefix' in m) return stringOp(m.prefix, v, (s, p) => s.startsWith(p));
  if ('suffix' in m) return stringOp(m.suffix, v, (s, p) => s.endsWith(p));
  if ('equals-ignore-case' in m) {
    return typeof v === 'string' && typeof m['equals-ignore-case'] === 'string'
      ? v.toLowerCase() === m['equals-ignore-case'].toLowerCase()
      : false;
  }
  if ('wildcard' in m)
    return typeof v === 'string' && typeof m.wildcard === 'string' && wildcard(m.wildcard, v);
  if ('numeric' in m) return typeof v === 'number' && numeric(m.numeric, v);
  if ('cidr' in m) return typeof v === 'string' && typeof m.cidr === 'string' && cidr(m.cidr, v);
  throw new Error(`Unsupported event pattern matcher: ${JSON.stringify(m)}`);
}

/** prefix/suffix with a plain string or `{ "equals-ignore-case": string }`. */
function stringOp(arg: unknown, v: unknown, op: (s: string, p: string) => boolean): boolean {
  if (typeof v !== 'string') return false;
  if (typeof arg === 'string') return op(v, arg);
  if (isObject(arg) && typeof arg['equals-ignore-case'] === 'string') {
    return op(v.toLowerCase(), arg['equals-ignore-case'].toLowerCase());
  }
  throw new Error(`Unsupported prefix/suffix argument: ${JSON.stringify(arg)}`);
}

function anythingBut(arg: unknown, v: unknown): boolean {
  if (Array.isArray(arg)) return !arg.some((a) => a === v);
  if (!isObject(arg)) return arg !== v;
  if ('prefix' in arg) return typeof v === 'string' && !stringOp(arg.prefix, v, (s, p) => s.startsWith(p));
  if ('suffix' in arg) return typeof v === 'string' && !stringOp(arg.suffix, v, (s, p) => s.endsWith(p));
  if ('wildcard' in arg) {
    const list = Array.isArray(arg.wildcard) ? arg.wildcard : [arg.wildcard];
    return typeof v === 'string' && !list.some((w) => typeof w === 'string' && wildcard(w, v));
  }
  if ('equals-ignore-case' in arg) {
    const raw = arg['equals-ignore-case'];
    const list = (Array.isArray(raw) ? raw : [raw]).map((s) => String(s).toLowerCase());
    return typeof v === 'string' && !list.includes(v.toLowerCase());
  }
  throw new Error(`Unsupported anything-but argument: ${JSON.stringify(arg)}`);
}

/** `*` matches any run of characters; `\*` is a literal star. */
function wildcard(pattern: string, v: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && pattern[i + 1] === '*') {
      re += '\\*';
      i++;
    } else if (c === '*') re += '.*';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(v);
}

/** `[">", 0, "<=", 5]`: every operator/operand pair must hold. */
function numeric(arg: unknown, v: number): boolean {
  if (!Array.isArray(arg) || arg.length % 2 !== 0)
    throw new Error(`Invalid numeric matcher: ${JSON.stringify(arg)}`);
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = Number(arg[i + 1]);
    const ok =
      op === '='
        ? v === n
        : op === '<'
          ? v < n
          : op === '<='
            ? v <= n
            : op === '>'
              ? v > n
              : op === '>='
                ? v >= n
                : null;
    if (ok === null) throw new Error(`Invalid numeric operator: ${JSON.stringify(op)}`);
    if (!ok) return false;
  }
  return true;
}

function ipv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function ipv6(s: string): bigint | undefined {
  if (!/^[0-9a-f:]+$/i.test(s) || s.split('::').length > 2) return undefined;
  const [head = '', tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  if ((tail === undefined && missing !== 0) || missing < 0) return undefined;
  const groups = [...h, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...t];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return n;
}

function cidr(block: string, v: string): boolean {
  const [base = '', bitsText] = block.split('/');
  const v6 = base.includes(':');
  const width = v6 ? 128 : 32;
  const parse = v6 ? ipv6 : ipv4;
  const net = parse(base);
  const ip = parse(v);
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (net === undefined || !Number.isInteger(bits) || bits < 0 || bits > width) {
    throw new Error(`Invalid cidr matcher: ${block}`);
  }
  if (ip === undefined) return false;
  const shift = BigInt(width - bits);
  return ip >> shift === net >> shift;
}
