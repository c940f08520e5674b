/** What the sign-in page says, in words a person can act on. No DOM here: see login-form.ts. */
import type { LoginResult } from './api';

export type LoginFailure = Exclude<LoginResult, { kind: 'ok' }>;

/** The text shown under the form for a failed sign-in. */
export function loginFailureText(failure: LoginFailure): string {
  switch (failure.kind) {
    case 'invalid-credentials':
      return 'Wrong username or password.';
    case 'throttled':
      return failure.retryAfterSec === null
        ? 'Too many attempts, try again later.'
        : `Too many attempts, try again in ${failure.retryAfterSec} s.`;
    case 'rejected':
      return `The server refused the sign-in request: ${failure.problem}.`;
    case 'unreachable':
      return 'Cannot reach the server. Check your network connection and try again.';
    case 'error':
      return `Sign-in failed (${failure.problem}). Try again later.`;
  }
}
