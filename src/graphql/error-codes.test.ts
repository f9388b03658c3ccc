import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { maskUnexpectedError } from './error-codes.js';

const located = (original: Error): GraphQLError => new GraphQLError(original.message, { originalError: original, path: ['me'] });

describe('maskUnexpectedError()', () => {
  it('masks an unexpected error as INTERNAL_SERVER_ERROR, without its message or stack', () => {
    const masked = maskUnexpectedError(located(new Error('secret detail at /srv/app.ts:12')), 'Unexpected error.', false) as GraphQLError;
    expect(masked.message).toBe('Unexpected error.');
    expect(masked.extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    expect(JSON.stringify(masked.toJSON())).not.toContain('secret detail');
  });

  it('turns an unreachable dependency into SERVICE_UNAVAILABLE, keeping the path', () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), { name: 'MongoServerSelectionError' });
    const masked = maskUnexpectedError(located(down), 'Unexpected error.', false) as GraphQLError;
    expect(masked.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE' });
    expect(masked.path).toEqual(['me']);
  });

  it('lets errors meant for the client through, with their code and field', () => {
    const masked = maskUnexpectedError(located(new AppError('BAD_USER_INPUT', 'id must be a session id', { field: 'id' })), 'Unexpected error.', false) as GraphQLError;
    expect(masked.message).toBe('id must be a session id');
    expect(masked.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(masked.path).toEqual(['me']);
  });
});
