import { describe, expect, it } from 'vitest';
import { type LoginFailure, loginFailureText } from '../../../web/src/login';

describe('loginFailureText', () => {
  it.each<[LoginFailure, string]>([
    [{ kind: 'invalid-credentials' }, 'Wrong username or password.'],
    [{ kind: 'throttled', retryAfterSec: 42 }, 'Too many attempts, try again in 42 s.'],
    [{ kind: 'throttled', retryAfterSec: null }, 'Too many attempts, try again later.'],
    [
      { kind: 'unreachable', problem: 'Failed to fetch' },
      'Cannot reach the server. Check your network connection and try again.',
    ],
    [{ kind: 'error', problem: 'HTTP 502' }, 'Sign-in failed (HTTP 502). Try again later.'],
    [
      { kind: 'rejected', problem: 'username is too long' },
      'The server refused the sign-in request: username is too long.',
    ],
  ])('explains %o', (failure, text) => {
    expect(loginFailureText(failure)).toBe(text);
  });
});
