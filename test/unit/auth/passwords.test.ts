import { describe, expect, it } from 'vitest';
import {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  passwordProblem,
  UNKNOWN_USER_HASH,
  verifyPassword,
} from '../../../functions/shared/domain/auth/passwords';

// scrypt at N=2^15 costs tens of milliseconds per call: each test hashes as little as it can.
const PASSWORD = 'correct horse battery staple';

describe('hashPassword and verifyPassword', () => {
  it('round-trips a password and refuses a wrong one', async () => {
    // Prepare
    const stored = await hashPassword(PASSWORD);

    // Act
    const right = await verifyPassword(PASSWORD, stored);
    const wrong = await verifyPassword(`${PASSWORD}!`, stored);
    const empty = await verifyPassword('', stored);

    // Assess
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(stored).not.toContain(PASSWORD);
    expect([right, wrong, empty]).toEqual([true, false, false]);
  });

  it('salts every hash, so one password hashes differently twice', async () => {
    // Act
    const [a, b] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);

    // Assess
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
  });

  it('is deterministic for a given salt', async () => {
    // Prepare
    const salt = Buffer.alloc(16, 7);

    // Act
    const [a, b] = await Promise.all([hashPassword(PASSWORD, salt), hashPassword(PASSWORD, salt)]);

    // Assess
    expect(a).toBe(b);
  });

  it('normalises to NFKC, so compatibility forms of the same password match', async () => {
    // Prepare: full-width letters and the "ﬁ" ligature are NFKC-equivalent to plain ASCII;
    // a precomposed "é" equals "e" + combining acute accent.
    const stored = await hashPassword('Ｓｅｃｒｅｔ ﬁle pâté');

    // Act
    const ascii = await verifyPassword('Secret file pâté', stored);
    const decomposed = await verifyPassword('Secret file pa\u0302te\u0301', stored);
    const different = await verifyPassword('Secret file pate', stored);

    // Assess
    expect([ascii, decomposed, different]).toEqual([true, true, false]);
  });

  it.each([
    ['an empty string', ''],
    ['another scheme', 'bcrypt$2b$10$abcdefghijklmnopqrstuv'],
    ['too few fields', 'scrypt$32768$8$1'],
    [
      'non-numeric cost',
      'scrypt$lots$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ],
    [
      'a fractional cost',
      'scrypt$1.5$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ],
    ['a truncated hash', 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA'],
    ['garbage', '💥$💥$💥$💥$💥$💥'],
  ])('answers false, never throws, for a malformed stored hash: %s', async (_, stored) => {
    // Act / Assess
    await expect(verifyPassword(PASSWORD, stored)).resolves.toBe(false);
  });

  // Regression: integer N, r and p that scrypt itself refuses (a cost that is not a power of two, a
  // negative one, one past maxmem) once made verifyPassword throw, so a corrupt or hand-edited user
  // record turned login into a 500 instead of a plain 401.
  it.each([
    [
      'a cost that is not a power of two',
      'scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ],
    ['a negative cost', 'scrypt$-2$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    [
      'a cost past the memory limit',
      'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ],
  ])('answers false, never throws, for integer but impossible scrypt parameters: %s', async (_, stored) => {
    // Act / Assess
    await expect(verifyPassword(PASSWORD, stored)).resolves.toBe(false);
  });

  it('has a ready hash for unknown users that no guessable password matches', async () => {
    // Act
    const stored = await UNKNOWN_USER_HASH;

    // Assess
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
    await expect(verifyPassword('', stored)).resolves.toBe(false);
  });
});

describe('passwordProblem', () => {
  it.each([
    [12345678901234, 'expected a string'],
    [undefined, 'expected a string'],
    [null, 'expected a string'],
    [{ length: 20 }, 'expected a string'],
    ['', `at least ${MIN_PASSWORD_LENGTH} characters`],
    ['x'.repeat(MIN_PASSWORD_LENGTH - 1), `at least ${MIN_PASSWORD_LENGTH} characters`],
    ['x'.repeat(MAX_PASSWORD_LENGTH + 1), `at most ${MAX_PASSWORD_LENGTH} characters`],
  ])('describes the problem with %j', (password, problem) => {
    // Act / Assess
    expect(passwordProblem(password)).toBe(problem);
  });

  it.each(['x'.repeat(MIN_PASSWORD_LENGTH), 'x'.repeat(MAX_PASSWORD_LENGTH), PASSWORD])(
    'accepts a password of %#',
    (password) => {
      // Act / Assess
      expect(passwordProblem(password)).toBeUndefined();
    },
  );
});
