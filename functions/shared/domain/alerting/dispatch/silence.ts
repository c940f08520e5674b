import { type Issue, ValidationError } from '../../../errors';
import { type LabelMatcher, type Labels, matcherFromParts, matchesAll, matchesEmpty } from './labels';

/**
 * Silences, as Alertmanager's silence/silence.go: a set of matchers muting every alert they all
 * match between `startsAt` (inclusive) and `endsAt` (exclusive). Times are epoch milliseconds.
 */

/** A matcher in Alertmanager's API form. `isEqual` false negates it (`!=`, `!~`). */
export interface SilenceMatcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual: boolean;
}

export interface Silence {
  readonly id: string;
  readonly matchers: readonly SilenceMatcher[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly comment: string;
  /** Set by {@link expireSilence}; Alertmanager keeps it as the update time. */
  readonly updatedAt?: number;
}

export type SilenceState = 'pending' | 'active' | 'expired';

export const MAX_SILENCE_MATCHERS = 32;
export const MAX_SILENCE_COMMENT = 1_000;
export const MAX_SILENCE_CREATED_BY = 200;
export const MAX_SILENCE_VALUE_LENGTH = 1_024;

/** Alertmanager's `CalcSilenceState`: pending before `startsAt`, active until `endsAt`, then expired. */
export function silenceState(silence: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceState {
  if (now < silence.startsAt) return 'pending';
  if (now < silence.endsAt) return 'active';
  return 'expired';
}

/**
 * Validates a silence (Alertmanager's `validateSilence` plus its API's checks): an id, at least one
 * matcher, valid label names and regexes, not every matcher matching the empty string (it would
 * silence everything), `endsAt` after `startsAt`, `createdBy` and `comment` present, lengths bounded.
 * When `now` is given, `endsAt` must not be in the past (a new silence that is already expired).
 * Returns the compiled matchers; throws a {@link ValidationError} with every issue.
 */
export function validateSilence(silence: unknown, now?: number): LabelMatcher[] {
  const issues: Issue[] = [];
  const s = (typeof silence === 'object' && silence !== null ? silence : {}) as Record<string, unknown>;
  if (typeof s.id !== 'string' || s.id === '' || s.id.length > 100) {
    issues.push({ path: 'id', message: 'expected an id of 1 to 100 characters' });
  }
  const compiled: LabelMatcher[] = [];
  if (!Array.isArray(s.matchers) || s.matchers.length === 0) {
    issues.push({ path: 'matchers', message: 'at least one matcher is required' });
  } else if (s.matchers.length > MAX_SILENCE_MATCHERS) {
    issues.push({ path: 'matchers', message: `at most ${MAX_SILENCE_MATCHERS} matchers` });
  } else {
    s.matchers.forEach((raw: unknown, i) => {
      const path = `matchers[${i}]`;
      const m = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      if (typeof m.isRegex !== 'boolean' || typeof m.isEqual !== 'boolean') {
        issues.push({ path, message: 'isRegex and isEqual must be true or false' });
        return;
      }
      if (typeof m.value === 'string' && m.value.length > MAX_SILENCE_VALUE_LENGTH) {
        issues.push({ path: `${path}.value`, message: `at most ${MAX_SILENCE_VALUE_LENGTH} characters` });
        return;
      }
      try {
        compiled.push(matcherFromParts(m.name as string, m.value as string, m.isRegex, m.isEqual, path));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        issues.push(...error.issues);
      }
    });
    if (compiled.length === s.matchers.length && compiled.every(matchesEmpty)) {
      issues.push({ path: 'matchers', message: 'at least one matcher must not match the empty string' });
    }
  }
  const startsAt = s.startsAt;
  const endsAt = s.endsAt;
  const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (!isTime(startsAt)) issues.push({ path: 'startsAt', message: 'expected a time (epoch milliseconds)' });
  if (!isTime(endsAt)) issues.push({ path: 'endsAt', message: 'expected a time (epoch milliseconds)' });
  if (isTime(startsAt) && isTime(endsAt) && endsAt <= startsAt) {
    issues.push({ path: 'endsAt', message: 'the end must be after the start' });
  }
  if (now !== undefined && isTime(endsAt) && endsAt <= now) {
    issues.push({ path: 'endsAt', message: 'the end cannot be in the past' });
  }
  for (const [field, max] of [
    ['createdBy', MAX_SILENCE_CREATED_BY],
    ['comment', MAX_SILENCE_COMMENT],
  ] as const) {
    const v = s[field];
    if (typeof v !== 'string' || v.trim() === '') issues.push({ path: field, message: 'required' });
    else if (v.length > max) issues.push({ path: field, message: `at most ${max} characters` });
  }
  if (issues.length > 0) {
    throw ValidationError.listing('Invalid silence', issues);
  }
  return compiled;
}

/**
 * Expires a silence now, as Alertmanager's `Expire`: a pending silence ends before it starts
 * (`startsAt = endsAt = now`), an active one ends now, an expired one is returned unchanged.
 */
export function expireSilence(silence: Silence, now: number): Silence {
  const state = silenceState(silence, now);
  if (state === 'expired') return silence;
  if (state === 'pending') return { ...silence, startsAt: now, endsAt: now, updatedAt: now };
  return { ...silence, endsAt: now, updatedAt: now };
}

/**
 * The ids of the silences active at `now` whose matchers all match the labels, sorted. A silence
 * with invalid matchers mutes nothing (validate before storing).
 */
export function isSilenced(labels: Labels, silences: readonly Silence[], now: number): string[] {
  const ids: string[] = [];
  for (const silence of silences) {
    if (silenceState(silence, now) !== 'active') continue;
    const matchers = compiledMatchers(silence);
    if (matchers && matchesAll(matchers, labels)) ids.push(silence.id);
  }
  return ids.sort();
}

const COMPILED = new WeakMap<Silence, LabelMatcher[] | null>();

function compiledMatchers(silence: Silence): LabelMatcher[] | null {
  let matchers = COMPILED.get(silence);
  if (matchers === undefined) {
    try {
      matchers = silence.matchers.map((m, i) =>
        matcherFromParts(m.name, m.value, m.isRegex, m.isEqual, `matchers[${i}]`),
      );
      if (matchers.length === 0 || matchers.every(matchesEmpty)) matchers = null;
    } catch {
      matchers = null;
    }
    COMPILED.set(silence, matchers);
  }
  return matchers;
}
