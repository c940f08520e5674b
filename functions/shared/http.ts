import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { MalformedJsonError, PulseboardError, ValidationError } from './errors';

/** The one JSON error envelope every route answers with. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly issues?: unknown;
    readonly [detail: string]: unknown;
  };
}

/** Maps stable error codes to HTTP statuses; anything unlisted is a 500. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  TOO_MANY_ATTEMPTS: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_IN_PROGRESS: 409,
  UNPROCESSABLE: 422,
};

/** A JSON response with the right content type. */
export function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

/**
 * Turns any thrown value into the error envelope. A 4xx shows its message to the client; a 5xx
 * shows a generic message, and the caller logs the detail.
 */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof PulseboardError) {
    const status = STATUS_BY_CODE[error.code] ?? 500;
    if (status < 500) {
      const issues = error instanceof ValidationError && error.issues.length > 0 ? error.issues : undefined;
      return json(status, {
        error: { code: error.code, message: error.message, issues, ...error.details },
      } satisfies ErrorBody);
    }
  }
  return json(500, { error: { code: 'INTERNAL', message: 'Internal error' } } satisfies ErrorBody);
}

/** Whether an error response is a server-side failure that must be logged with its detail. */
export function isServerError(response: APIGatewayProxyStructuredResultV2): boolean {
  return (response.statusCode ?? 500) >= 500;
}

/** The raw body as text, decoding API Gateway's base64 form. */
export function bodyText(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): string {
  if (event.body === undefined || event.body === null) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/** Parses a JSON body; an empty or malformed body is a client error, never a crash. */
export function parseJsonBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): unknown {
  const text = bodyText(event);
  if (text.trim() === '') throw new ValidationError('Request body is empty; a JSON object is expected');
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new MalformedJsonError(cause);
  }
}
