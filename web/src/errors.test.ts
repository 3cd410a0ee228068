import { describe, expect, it } from 'vitest';
import { errorCodes, errorMessage, formErrors, isUnauthenticated, normalizeField, type ErrorLike } from './errors';

function graphQLError(message: string, extensions: Record<string, unknown>): ErrorLike {
  return { message: `[GraphQL] ${message}`, graphQLErrors: [{ message, extensions }] };
}

describe('formErrors', () => {
  const fields = ['name', 'cpf', 'address.zipCode'];

  it('puts a VALIDATION error next to the field its extensions.field names', () => {
    const result = formErrors(graphQLError('CPF is not valid', { code: 'VALIDATION', field: 'cpf' }), fields);
    expect(result).toEqual({ fields: { cpf: 'CPF is not valid' }, general: [] });
  });

  it('understands nested and input-prefixed paths', () => {
    const error = graphQLError('CEP must have 8 digits', { code: 'VALIDATION', field: 'input.address.zipCode' });
    expect(formErrors(error, fields).fields).toEqual({ 'address.zipCode': 'CEP must have 8 digits' });
  });

  it('keeps errors for fields the form does not show, naming the field', () => {
    const error = graphQLError('email differs from the token', { code: 'VALIDATION', field: 'email' });
    expect(formErrors(error, fields)).toEqual({ fields: {}, general: ['email: email differs from the token'] });
  });

  it('shows errors without a field and network errors as general ones', () => {
    const error: ErrorLike = {
      message: '[Network] Failed to fetch',
      networkError: new Error('Failed to fetch'),
      graphQLErrors: [{ message: 'already a client', extensions: { code: 'CONFLICT' } }],
    };
    expect(formErrors(error, fields).general).toEqual(['Failed to fetch', 'already a client']);
  });

  it('never returns nothing for an error', () => {
    expect(formErrors({ message: 'odd', graphQLErrors: [] }, fields).general).toEqual(['odd']);
    expect(formErrors(undefined, fields)).toEqual({ fields: {}, general: [] });
  });
});

describe('codes', () => {
  it('reads extensions.code', () => {
    const error = graphQLError('the token has expired', { code: 'UNAUTHENTICATED' });
    expect(errorCodes(error)).toEqual(['UNAUTHENTICATED']);
    expect(isUnauthenticated(error)).toBe(true);
    expect(isUnauthenticated(graphQLError('no', { code: 'FORBIDDEN' }))).toBe(false);
    expect(isUnauthenticated(null)).toBe(false);
  });
  it('joins messages', () => {
    expect(errorMessage(graphQLError('no such order', { code: 'NOT_FOUND' }))).toBe('no such order');
    expect(normalizeField('input.cpf')).toBe('cpf');
  });
});
