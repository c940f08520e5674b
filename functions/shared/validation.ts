import type * as z from 'zod/mini';
import { ValidationError } from './errors';

/**
 * Validates input against a zod schema; every problem becomes an issue with its path, in the one
 * error envelope, so a bad request is always a 400 that says what to fix.
 */
export function parseWith<T extends z.ZodMiniType>(schema: T, input: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new ValidationError(`Invalid ${what}: ${summary}`, issues);
}
