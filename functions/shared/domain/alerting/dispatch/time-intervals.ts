import { type Issue, ValidationError } from '../../../errors';
import { describe, isRecord, own, preview } from '../../ingest/inspect';

/**
 * Alertmanager's time intervals (timeinterval/timeinterval.go), as alertmanager.yml writes them:
 *
 * ```yaml
 * time_intervals:                  # mute_time_intervals: the deprecated spelling, same shape
 *   - name: business-hours
 *     time_intervals:              # active when any entry contains the instant
 *       - times: [{ start_time: '09:00', end_time: '17:00' }]   # end exclusive; 24:00 allowed
 *         weekdays: ['monday:friday', 'saturday']
 *         days_of_month: ['1:5', '-3:-1']                       # negative: from the month's end
 *         months: ['january:march', '12']
 *         years: ['2024:2026']
 *         location: Europe/Berlin                               # default UTC
 * ```
 *
 * Within an entry every field given must match, each by any of its ranges (inclusive); a field
 * left out matches anything, and an empty list matches nothing (Go sees a non-nil empty slice).
 * A route names intervals in `mute_time_intervals` (no notifications while one is active) and
 * `active_time_intervals` (notifications only while one is active); see {@link timeMuted}.
 */

/** Minutes of the day: `startMinute` inclusive, `endMinute` exclusive (1440 for 24:00). */
export interface TimeRange {
  readonly startMinute: number;
  readonly endMinute: number;
}

export interface InclusiveRange {
  readonly begin: number;
  readonly end: number;
}

export interface TimeInterval {
  readonly times?: readonly TimeRange[];
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekdays?: readonly InclusiveRange[];
  /** 1 … 31, or -1 … -31 counted back from the month's last day. */
  readonly daysOfMonth?: readonly InclusiveRange[];
  /** 1 = January … 12 = December. */
  readonly months?: readonly InclusiveRange[];
  readonly years?: readonly InclusiveRange[];
  /** The IANA zone the fields are read in; absent means UTC. */
  readonly location?: string;
}

export interface NamedTimeInterval {
  readonly name: string;
  readonly timeIntervals: readonly TimeInterval[];
}

/** Every defined interval by name, `time_intervals` and `mute_time_intervals` alike. */
export type TimeIntervals = ReadonlyMap<string, NamedTimeInterval>;

export const NO_TIME_INTERVALS: TimeIntervals = new Map();

const TOP_LEVEL_KEYS = ['mute_time_intervals', 'time_intervals'] as const;
const NAMED_KEYS = new Set(['name', 'time_intervals']);
const INTERVAL_KEYS = new Set(['times', 'weekdays', 'days_of_month', 'months', 'years', 'location']);
const TIME_RANGE_KEYS = new Set(['start_time', 'end_time']);
const MAX_NAME_LENGTH = 200;

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/**
 * Parses alertmanager.yml's `time_intervals` and deprecated `mute_time_intervals`; throws one
 * {@link ValidationError} naming every bad path (`time_intervals[0].time_intervals[1].weekdays[0]`).
 */
export function parseTimeIntervals(config: {
  readonly time_intervals?: unknown;
  readonly mute_time_intervals?: unknown;
}): TimeIntervals {
  const issues: Issue[] = [];
  const intervals = collectTimeIntervals(config, issues);
  if (issues.length > 0) {
    throw ValidationError.listing('Invalid time intervals', issues);
  }
  return intervals;
}

/**
 * {@link parseTimeIntervals}, adding problems to `issues` instead of throwing. Every name given is
 * in the result, even one whose definition has problems, so routes naming it are not reported too.
 */
export function collectTimeIntervals(config: unknown, issues: Issue[]): Map<string, NamedTimeInterval> {
  const out = new Map<string, NamedTimeInterval>();
  const definedAt = new Map<string, string>();
  // Alertmanager reads mute_time_intervals first: a name defined in both is reported on time_intervals.
  for (const key of TOP_LEVEL_KEYS) {
    const list = own(config, key);
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      issues.push({ path: key, message: 'expected a list of { name, time_intervals }' });
      continue;
    }
    list.forEach((raw: unknown, i) => {
      const path = `${key}[${i}]`;
      const named = parseNamed(raw, path, issues);
      if (!named) return;
      const earlier = definedAt.get(named.name);
      if (earlier !== undefined) {
        issues.push({
          path: `${path}.name`,
          message: `${preview(named.name)} is already defined at ${earlier}`,
        });
        return;
      }
      definedAt.set(named.name, path);
      out.set(named.name, named);
    });
  }
  return out;
}

function parseNamed(raw: unknown, path: string, issues: Issue[]): NamedTimeInterval | undefined {
  if (!isRecord(raw)) {
    issues.push({ path, message: 'a time interval is an object { name, time_intervals }' });
    return undefined;
  }
  unknownKeys(raw, NAMED_KEYS, path, issues);
  const name = own(raw, 'name');
  const list = own(raw, 'time_intervals');
  const timeIntervals: TimeInterval[] = [];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) issues.push({ path: `${path}.time_intervals`, message: 'expected a list' });
    else
      list.forEach((entry: unknown, i) => {
        const parsed = parseInterval(entry, `${path}.time_intervals[${i}]`, issues);
        if (parsed) timeIntervals.push(parsed);
      });
  }
  if (typeof name !== 'string' || name === '' || name.length > MAX_NAME_LENGTH) {
    issues.push({
      path: `${path}.name`,
      message: `a time interval needs a name of 1 to ${MAX_NAME_LENGTH} characters, not ${describe(name)}`,
    });
    return undefined;
  }
  return { name, timeIntervals };
}

function parseInterval(raw: unknown, path: string, issues: Issue[]): TimeInterval | undefined {
  if (!isRecord(raw)) {
    issues.push({
      path,
      message: 'expected an object of times, weekdays, days_of_month, months, years, location',
    });
    return undefined;
  }
  unknownKeys(raw, INTERVAL_KEYS, path, issues);
  const ranges = (key: string, parse: (text: string) => InclusiveRange | string) =>
    listOf(raw, key, path, issues)?.flatMap((item, i) => {
      const at = `${path}.${key}[${i}]`;
      // YAML hands Alertmanager `days_of_month: [5]` as the string "5": numbers are taken as written.
      const text = typeof item === 'number' && Number.isInteger(item) ? String(item) : item;
      if (typeof text !== 'string') {
        issues.push({ path: at, message: `expected a string like "1:5", not ${describe(item)}` });
        return [];
      }
      const range = parse(text.toLowerCase());
      if (typeof range === 'string') {
        issues.push({ path: at, message: range });
        return [];
      }
      return [range];
    });
  const fields: TimeInterval = {
    times: listOf(raw, 'times', path, issues)?.flatMap((item, i) =>
      parseTimeRange(item, `${path}.times[${i}]`, issues),
    ),
    weekdays: ranges('weekdays', parseWeekdays),
    daysOfMonth: ranges('days_of_month', parseDaysOfMonth),
    months: ranges('months', parseMonths),
    years: ranges('years', parseYears),
    location: parseLocation(own(raw, 'location'), `${path}.location`, issues),
  };
  // A field left out matches anything: keep only the ones given.
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

function listOf(
  raw: Record<string, unknown>,
  key: string,
  path: string,
  issues: Issue[],
): unknown[] | undefined {
  const value = own(raw, key);
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    issues.push({ path: `${path}.${key}`, message: `expected a list, not ${describe(value)}` });
    return undefined;
  }
  return value;
}

function unknownKeys(
  raw: Record<string, unknown>,
  known: ReadonlySet<string>,
  path: string,
  issues: Issue[],
) {
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) issues.push({ path: `${path}.${key}`, message: 'unknown setting' });
  }
}

const TIME = /^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/;

function parseTimeRange(raw: unknown, path: string, issues: Issue[]): TimeRange[] {
  if (!isRecord(raw)) {
    issues.push({ path, message: "expected { start_time: 'HH:MM', end_time: 'HH:MM' }" });
    return [];
  }
  unknownKeys(raw, TIME_RANGE_KEYS, path, issues);
  const start = own(raw, 'start_time');
  const end = own(raw, 'end_time');
  if (start === undefined || start === '' || end === undefined || end === '') {
    issues.push({ path, message: 'both start_time and end_time are required' });
    return [];
  }
  const minute = (value: unknown, key: string): number | undefined => {
    if (typeof value === 'string' && TIME.test(value))
      return Number(value.slice(0, 2)) * 60 + Number(value.slice(3));
    issues.push({
      path: `${path}.${key}`,
      message: `${typeof value === 'string' ? preview(value) : describe(value)} is not a time HH:MM from 00:00 to 23:59 (or 24:00)`,
    });
    return undefined;
  };
  const startMinute = minute(start, 'start_time');
  const endMinute = minute(end, 'end_time');
  if (startMinute === undefined || endMinute === undefined) return [];
  if (startMinute >= endMinute) {
    issues.push({
      path,
      message: 'end_time must be after start_time (a range cannot span midnight: use two)',
    });
    return [];
  }
  return [{ startMinute, endMinute }];
}

/** Go's `strconv.Atoi`: an optional sign and decimal digits. */
function integer(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Alertmanager's `stringableRangeFromString`: `member` or `member:member`, members parsed by `member`. */
function rangeOf(text: string, member: (part: string) => number | string): InclusiveRange | string {
  const parts = text.split(':');
  if (parts.length > 2) return `${preview(text)} is not a value or a range like start:end`;
  const values = parts.map(member);
  const bad = values.find((v) => typeof v === 'string');
  if (bad !== undefined) return bad as string;
  const [begin, end = begin] = values as number[];
  return { begin: begin as number, end: end as number };
}

function parseWeekdays(text: string): InclusiveRange | string {
  const range = rangeOf(text, (part) => {
    const day = WEEKDAYS.indexOf(part);
    return day >= 0 ? day : `${preview(part)} is not a weekday (sunday to saturday)`;
  });
  if (typeof range === 'string') return range;
  // Weeks run sunday to saturday and ranges do not wrap: saturday:sunday is refused, as Alertmanager does.
  return range.begin > range.end
    ? `${preview(text)}: the start day is after the end day (weeks run sunday to saturday)`
    : range;
}

function parseDaysOfMonth(text: string): InclusiveRange | string {
  const range = rangeOf(text, (part) => integer(part) ?? `${preview(part)} is not a day of the month`);
  if (typeof range === 'string') return range;
  for (const day of [range.begin, range.end]) {
    if (day === 0 || day < -31 || day > 31)
      return `${day} is not a day of the month: 1 to 31, or -1 to -31 counted from the month's end`;
  }
  if (range.begin < 0 && range.end > 0)
    return `${preview(text)}: the end day must be negative when the start day is`;
  // As Alertmanager: with negative days only an order wrong in every month (28 days long) is refused.
  const begin = range.begin < 0 ? 28 + range.begin : range.begin;
  const end = range.end < 0 ? 28 + range.end : range.end;
  return begin > end ? `${preview(text)}: the end day is always before the start day` : range;
}

function parseMonths(text: string): InclusiveRange | string {
  const range = rangeOf(text, (part) => {
    const named = MONTHS.indexOf(part);
    if (named >= 0) return named + 1;
    const n = integer(part);
    // Alertmanager 0.25 takes any integer (13 never matches, 0:3 means 1:3); refused here as a typo.
    return n !== undefined && n >= 1 && n <= 12
      ? n
      : `${preview(part)} is not a month (january to december, or 1 to 12)`;
  });
  if (typeof range === 'string') return range;
  return range.begin > range.end ? `${preview(text)}: the end month is before the start month` : range;
}

function parseYears(text: string): InclusiveRange | string {
  const range = rangeOf(text, (part) => integer(part) ?? `${preview(part)} is not a year`);
  if (typeof range === 'string') return range;
  return range.begin > range.end ? `${preview(text)}: the end year is before the start year` : range;
}

/**
 * Go's `time.LoadLocation`: an IANA name, case-sensitive; "" and "UTC" are UTC. "Local" is the
 * process's zone, which on Lambda is UTC. Intl also takes offsets (+01:00) and any casing, which
 * Go refuses, so those are refused here too. Undefined: UTC (or refused, with an issue).
 */
function parseLocation(value: unknown, path: string, issues: Issue[]): string | undefined {
  if (value === undefined || value === null || value === '' || value === 'UTC' || value === 'Local')
    return undefined;
  if (typeof value !== 'string') {
    issues.push({ path, message: `expected an IANA time zone name, not ${describe(value)}` });
    return undefined;
  }
  let resolved: string | undefined;
  try {
    // Not cached: only names that pass are (any casing of any name would grow the cache).
    if (/^[A-Za-z]/.test(value))
      resolved = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    // resolved stays undefined: unknown.
  }
  if (resolved === undefined) {
    issues.push({
      path,
      message: `unknown time zone ${preview(value)}: expected an IANA name like Europe/Berlin`,
    });
    return undefined;
  }
  if (resolved !== value && resolved.toLowerCase() === value.toLowerCase()) {
    issues.push({
      path,
      message: `unknown time zone ${preview(value)}: names are case-sensitive (${resolved})`,
    });
    return undefined;
  }
  return value;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The wall clock in a zone at an instant, as Go's `t.In(loc)` fields. */
interface Civil {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function civil(ms: number, zone: string | undefined): Civil {
  if (zone === undefined) {
    const d = new Date(ms);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
    };
  }
  const parts: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(ms)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year as number,
    month: parts.month as number,
    day: parts.day as number,
    hour: parts.hour as number,
    minute: parts.minute as number,
    second: parts.second as number,
  };
}

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(ms: number, zone: string | undefined): number {
  const at = Math.floor(ms / 1000) * 1000;
  const c = civil(at, zone);
  return Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second) - at;
}

/** Go's `time.Date(year, month, day, h, m, s, 0, loc)`: a wall clock time in a zone, normalised, as an instant. */
function instantOf(
  year: number,
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
  zone?: string,
): number {
  const guess = Date.UTC(year, month - 1, day, h, m, s);
  const offset = offsetAt(guess, zone);
  const utc = guess - offset;
  // Near a transition the guess's offset can be the wrong one: take the offset in force at the result.
  const actual = offsetAt(utc, zone);
  return actual === offset ? utc : guess - actual;
}

/**
 * timeinterval.go's `daysInMonth`: the whole days elapsed from the month's first midnight to the
 * next month's, in the zone. As in Alertmanager, a month that loses an hour to daylight saving
 * time counts one day short (March in Europe/Berlin has 30 by this count), which shifts negative
 * days and skips day 31 of such a month.
 */
function daysInMonth(year: number, month: number, zone: string | undefined): number {
  const start = instantOf(year, month, 1, 0, 0, 0, zone);
  const c = civil(start, zone);
  const end = instantOf(c.year, c.month + 1, c.day, c.hour, c.minute, c.second, zone);
  return Math.trunc((end - start) / 86_400_000);
}

const inAny = (ranges: readonly InclusiveRange[], value: number) =>
  ranges.some((r) => value >= r.begin && value <= r.end);

/** timeinterval.go's `ContainsTime`: every field given matches the instant, read in the entry's zone. */
export function containsTime(interval: TimeInterval, nowMs: number): boolean {
  const t = civil(nowMs, interval.location);
  if (interval.times) {
    const minute = t.hour * 60 + t.minute;
    if (!interval.times.some((r) => minute >= r.startMinute && minute < r.endMinute)) return false;
  }
  if (interval.daysOfMonth) {
    const days = daysInMonth(t.year, t.month, interval.location);
    const clamp = (n: number) => Math.min(Math.max(n, -days), days);
    const matched = interval.daysOfMonth.some((r) => {
      const begin = r.begin < 0 ? days + r.begin + 1 : r.begin;
      const end = r.end < 0 ? days + r.end + 1 : r.end;
      if (begin > days) return false;
      return t.day >= clamp(begin) && t.day <= clamp(end);
    });
    if (!matched) return false;
  }
  if (interval.months && !inAny(interval.months, t.month)) return false;
  if (
    interval.weekdays &&
    !inAny(interval.weekdays, new Date(Date.UTC(t.year, t.month - 1, t.day)).getUTCDay())
  )
    return false;
  if (interval.years && !inAny(interval.years, t.year)) return false;
  return true;
}

/** A named interval is active when any of its entries contains the instant. */
export function isActive(interval: NamedTimeInterval, nowMs: number): boolean {
  return interval.timeIntervals.some((entry) => containsTime(entry, nowMs));
}

/**
 * Whether a route's notifications are held back at `nowMs`: Alertmanager's TimeActiveStage (some
 * `active_time_intervals` and none active) then TimeMuteStage (a `mute_time_intervals` one active).
 */
export function timeMuted(
  route: { readonly muteTimeIntervals?: readonly string[]; readonly activeTimeIntervals?: readonly string[] },
  intervals: TimeIntervals,
  nowMs: number,
): boolean {
  const active = route.activeTimeIntervals ?? [];
  if (active.length > 0 && inTimeIntervals(active, intervals, nowMs) !== true) return true;
  return inTimeIntervals(route.muteTimeIntervals ?? [], intervals, nowMs) !== false;
}

/**
 * notify.go's `inTimeIntervals`: true at the first name active, in order; undefined at a name not
 * defined (any more: a group whose route left the tree), where Alertmanager's stage fails and
 * sends nothing.
 */
function inTimeIntervals(
  names: readonly string[],
  intervals: TimeIntervals,
  nowMs: number,
): boolean | undefined {
  for (const name of names) {
    const interval = intervals.get(name);
    if (interval === undefined) return undefined;
    if (isActive(interval, nowMs)) return true;
  }
  return false;
}
