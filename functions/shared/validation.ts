import type * as z from 'zod/mini';
import { ValidationError } from './errors';

/**
 * Validates input against a zod schema; every problem becomes an issue with its path, in the one
 * error envelope, so a bad request is always a 400 that says what to fix.
 */
export function parseWith<T extends z.ZodMiniType>(schema: T, input: unknown, what: string): z.infer<T> {
  const result = malformedAsInvalid(() => schema.safeParse(input), what);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new ValidationError(`Invalid ${what}: ${summary}`, issues);
}

/**
 * zod's length checks still run on a value that failed its type check, and throw on an object
 * whose `length` cannot become a number: that is still the client's malformed input, not a 500.
 */
function malformedAsInvalid<R>(parse: () => R, what: string): R {
  try {
    return parse();
  } catch {
    throw new ValidationError(`Invalid ${what}: malformed input`, [{ path: '', message: 'malformed input' }]);
  }
}
