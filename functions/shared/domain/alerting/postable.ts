import { type Issue, ValidationError } from '../../errors';
import { GO_ZERO_TIME, parseAlertEvent } from './dispatch/alert';
import { fingerprint } from './fingerprint';

/**
 * Alerts posted to `POST /api/v2/alerts` (Alertmanager's `postableAlerts`), as Prometheus sends
 * them, turned into Pulseboard's explicit firing/resolved alerts with Alertmanager's rules:
 * - no `startsAt`: now, or `endsAt` when only that is given;
 * - no `endsAt`: the alert is firing until `resolve_timeout` passes without a re-send;
 * - `endsAt` at or before now: resolved.
 */
export const DEFAULT_RESOLVE_TIMEOUT_MS = 5 * 60_000;
export const MAX_POSTED_ALERTS = 1_000;

export interface PostedAlert {
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly startsAt: number;
  /** Epoch ms: when it resolved, or when it resolves unless it is sent again. */
  readonly endsAt: number;
  readonly generatorURL: string;
}

const KNOWN_FIELDS = new Set(['labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL']);

/** Validates a postableAlerts body; throws one ValidationError naming every problem by index. */
export function parsePostableAlerts(
  body: unknown,
  now: number,
  resolveTimeoutMs = DEFAULT_RESOLVE_TIMEOUT_MS,
): PostedAlert[] {
  if (!Array.isArray(body)) {
    throw new ValidationError('The body must be a JSON array of alerts (postableAlerts)', [
      { path: '', message: 'expected an array' },
    ]);
  }
  if (body.length > MAX_POSTED_ALERTS) {
    throw new ValidationError(`At most ${MAX_POSTED_ALERTS} alerts per request`, [
      { path: '', message: `at most ${MAX_POSTED_ALERTS} alerts` },
    ]);
  }
  const issues: Issue[] = [];
  const alerts: PostedAlert[] = [];
  body.forEach((raw: unknown, index) => {
    const alert = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
      string,
      unknown
    >;
    if (alert !== raw) issues.push({ path: `[${index}]`, message: 'expected an object' });
    for (const key of Object.keys(alert)) {
      if (!KNOWN_FIELDS.has(key)) issues.push({ path: `[${index}].${key}`, message: 'unknown field' });
    }
    const givenStart = optionalTime(alert.startsAt, `[${index}].startsAt`, issues);
    const givenEnd = optionalTime(alert.endsAt, `[${index}].endsAt`, issues);
    const endsAt = givenEnd ?? now + resolveTimeoutMs;
    const startsAt = givenStart ?? (givenEnd !== undefined ? Math.min(givenEnd, now) : now);
    const status = endsAt <= now ? 'resolved' : 'firing';
    const labels = isRecord(alert.labels) ? (alert.labels as Record<string, string>) : {};
    try {
      const parsed = parseAlertEvent({
        status,
        fingerprint: fingerprint(labels),
        labels: alert.labels,
        annotations: alert.annotations ?? {},
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(endsAt).toISOString(),
        generatorURL: alert.generatorURL,
      });
      alerts.push({
        fingerprint: parsed.fingerprint,
        status,
        labels: parsed.labels,
        annotations: parsed.annotations,
        startsAt,
        endsAt,
        generatorURL: parsed.generatorURL,
      });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues) {
        // A label set whose every name is invalid is reported by name, not also as empty.
        const emptyOnlyByRefusal = issue.path === 'labels' && Object.keys(labels).length > 0;
        if (
          !emptyOnlyByRefusal &&
          issue.path !== 'startsAt' &&
          issue.path !== 'endsAt' &&
          issue.path !== 'fingerprint'
        ) {
          issues.push({ path: `[${index}].${issue.path}`, message: issue.message });
        }
      }
    }
  });
  if (issues.length > 0) {
    throw new ValidationError(
      `Invalid alerts: ${issues
        .slice(0, 5)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}`,
      issues,
    );
  }
  return alerts;
}

const GO_ZERO_TIME_MS = Date.parse(GO_ZERO_TIME);

function optionalTime(value: unknown, path: string, issues: Issue[]): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const ms = typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    issues.push({ path, message: 'expected an RFC 3339 time' });
    return undefined;
  }
  // Go's zero time means "not set", as Alertmanager reads it, however it is written: amtool's
  // `alert add` sends `0001-01-01T00:00:00.000Z` for a start or end it was not given.
  return ms === GO_ZERO_TIME_MS ? undefined : ms;
}

function isRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
