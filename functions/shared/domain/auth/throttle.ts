/**
 * Login throttling, per user and per source address: a few failures are free, then each further
 * failure locks the subject out for twice as long as the last (1 s, 2 s, 4 s … up to 15 min).
 * Failures older than the window are forgotten; a success clears the record.
 */
export interface ThrottlePolicy {
  readonly freeFailures: number;
  readonly baseLockMs: number;
  readonly maxLockMs: number;
  readonly windowMs: number;
}

export const USER_POLICY: ThrottlePolicy = {
  freeFailures: 5,
  baseLockMs: 1_000,
  maxLockMs: 15 * 60_000,
  // Longer than the longest lock: waiting a lock out never earns fresh free guesses (at most ~100 a day).
  windowMs: 24 * 60 * 60_000,
};

/** A source address may try more names than one user may try passwords (NAT, offices). */
export const SOURCE_POLICY: ThrottlePolicy = { ...USER_POLICY, freeFailures: 20 };

export interface FailureRecord {
  readonly failures: number;
  readonly lastFailureAt: number;
  /** Epoch ms until which attempts are refused without checking the password. */
  readonly lockedUntil: number;
}

/** Whether attempts are refused now, and for how long. */
export function lockout(
  record: FailureRecord | undefined,
  now: number,
): { locked: boolean; retryAfterMs: number } {
  const remaining = record ? record.lockedUntil - now : 0;
  return remaining > 0 ? { locked: true, retryAfterMs: remaining } : { locked: false, retryAfterMs: 0 };
}

/** The record after one more failure. */
export function afterFailure(
  record: FailureRecord | undefined,
  now: number,
  policy: ThrottlePolicy,
): FailureRecord {
  const fresh = !record || now - record.lastFailureAt > policy.windowMs;
  const failures = (fresh ? 0 : record.failures) + 1;
  const over = failures - policy.freeFailures;
  const lockMs = over > 0 ? Math.min(policy.maxLockMs, policy.baseLockMs * 2 ** (over - 1)) : 0;
  return { failures, lastFailureAt: now, lockedUntil: lockMs > 0 ? now + lockMs : 0 };
}
