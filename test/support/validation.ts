import { type Issue, ValidationError } from '../../functions/shared/errors';

/** The issues `fn` is refused with; throws (failing the test) when it accepts its input. */
export function issuesThrownBy(fn: () => unknown): Issue[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a ValidationError, but the input was accepted');
}

/** The same issues as `path: message` lines. */
export function issueLines(fn: () => unknown): string[] {
  return issuesThrownBy(fn).map((issue) => `${issue.path}: ${issue.message}`);
}
