/**
 * One base error with a stable machine-readable code. Subclasses name the failure; the HTTP layer
 * maps codes to statuses in one table (http.ts).
 */
export class PulseboardError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown; details?: Readonly<Record<string, unknown>> },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.details = options?.details;
  }

  /** Structured detail a client can act on (e.g. every rejected datapoint), shown with 4xx answers. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** One problem with one part of a request. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** The request is malformed or violates a limit. */
export class ValidationError extends PulseboardError {
  constructor(
    message: string,
    readonly issues: readonly Issue[] = [],
  ) {
    super('VALIDATION_FAILED', message);
  }

  /** The error for a list of problems, each named in the message: `what: path: message; …`. */
  static listing(what: string, issues: readonly Issue[]): ValidationError {
    return new ValidationError(`${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
}

/** The request body is not valid JSON. */
export class MalformedJsonError extends PulseboardError {
  constructor(cause: unknown) {
    super('MALFORMED_JSON', 'Request body is not valid JSON', { cause });
  }
}

/** The requested thing does not exist. */
export class NotFoundError extends PulseboardError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** A write lost a race or violated a condition. */
export class ConflictError extends PulseboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFLICT', message, options);
  }
}

/** A downstream dependency failed; the detail is logged, never shown to the client. */
export class DependencyError extends PulseboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEPENDENCY_FAILED', message, options);
  }
}

/** No valid credentials were presented (or they could not be verified). */
export class UnauthorizedError extends PulseboardError {
  constructor(message = 'Sign in first: send Authorization: Bearer <token>') {
    super('UNAUTHORIZED', message);
  }
}

/** The caller is known but its role does not allow this. */
export class ForbiddenError extends PulseboardError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/** Too many attempts; `retryAfterSeconds` says when to try again. */
export class TooManyAttemptsError extends PulseboardError {
  constructor(readonly retryAfterSeconds: number) {
    super('TOO_MANY_ATTEMPTS', `Too many failed attempts; try again in ${retryAfterSeconds} s`, {
      details: { retryAfterSeconds },
    });
  }
}
