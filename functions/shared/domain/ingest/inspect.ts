// Small helpers for reading untrusted parsed input and echoing it safely in messages.
import { MAX_ECHO_CHARS } from './limits';

/** A non-null, non-array object: something whose own properties can be read. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An own property of `value`, or `undefined`. Never reads inherited properties, so keys such as
 * `constructor` or `toString`, or a polluted `Object.prototype`, cannot leak into parsed data.
 */
export function own(value: unknown, key: string): unknown {
  return isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

/**
 * A string quoted for a message, cut to `max` characters (code points, so an emoji is never split)
 * with `…` after the quote when it was longer. Control characters come out escaped.
 */
export function preview(text: string, max = MAX_ECHO_CHARS): string {
  const head = text.length > max * 2 ? text.slice(0, max * 2) : text;
  const points = Array.from(head);
  const truncated = head !== text || points.length > max;
  return JSON.stringify(points.slice(0, max).join('')) + (truncated ? '…' : '');
}

/** What kind of value this is, for a message ("an array", "the number 12", "a string"). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string ${preview(value)}`;
    case 'number':
      return `the number ${String(value)}`;
    case 'boolean':
      return `the boolean ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}
