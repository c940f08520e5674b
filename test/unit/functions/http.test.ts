import { describe, expect, it } from 'vitest';
import { PulseboardError, ValidationError } from '../../../functions/shared/errors';
import { errorResponse } from '../../../functions/shared/http';

describe('errorResponse', () => {
  it('shows a client error with its code, message and structured details', () => {
    const response = errorResponse(
      new PulseboardError('VALIDATION_FAILED', 'None accepted', {
        details: { rejected: [{ index: 0, code: 'INVALID_NAME' }] },
      }),
    );

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body as string)).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'None accepted',
        rejected: [{ index: 0, code: 'INVALID_NAME' }],
      },
    });
  });

  it('lists validation issues', () => {
    const body = JSON.parse(
      errorResponse(new ValidationError('Bad', [{ path: 'a', message: 'b' }])).body as string,
    );

    expect(body.error.issues).toEqual([{ path: 'a', message: 'b' }]);
  });

  it('hides the detail of server errors', () => {
    const response = errorResponse(new Error('connection string postgres://secret@db'));

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('secret');
    expect(JSON.parse(response.body as string)).toEqual({
      error: { code: 'INTERNAL', message: 'Internal error' },
    });
  });

  it('maps unknown codes to 500 without leaking their message', () => {
    const response = errorResponse(new PulseboardError('DEPENDENCY_FAILED', 'DynamoDB table xyz throttled'));

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('xyz');
  });
});
