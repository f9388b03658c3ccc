import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { validateLoginInput, validateRegisterInput, validateSessionId } from './validation.js';

function failure(fn: () => unknown): { code: string; field: unknown; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, field: error.field, message: error.message };
    throw error;
  }
  throw new Error('expected a validation error');
}

const good = { name: ' Ada ', email: ' Ada@Example.COM ', password: 'password123' };

describe('validateRegisterInput()', () => {
  it('trims the name, trims and lower-cases the email', () => {
    expect(validateRegisterInput(good)).toEqual({ name: 'Ada', email: 'ada@example.com', password: 'password123', deviceInfo: undefined });
  });

  it.each([
    [{ ...good, email: 'no-at-sign' }, 'email'],
    [{ ...good, email: `${'a'.repeat(250)}@x.io` }, 'email'],
    [{ ...good, email: { $ne: null } }, 'email'],
    [{ ...good, email: ['a@b.co'] }, 'email'],
    [{ ...good, name: '   ' }, 'name'],
    [{ ...good, name: 'x'.repeat(101) }, 'name'],
    [{ ...good, name: 'tab\there' }, 'name'],
    [{ ...good, password: 'short' }, 'password'],
    [{ ...good, password: 'x'.repeat(129) }, 'password'],
    [{ ...good, password: 12345678 }, 'password'],
    [{ ...good, deviceInfo: 'd'.repeat(201) }, 'deviceInfo'],
    [{ ...good, deviceInfo: { $gt: '' } }, 'deviceInfo'],
    [{ name: 'Ada', password: 'password123' }, 'email'],
    [null, 'input'],
    ['a string', 'input'],
  ])('refuses %j naming %s', (input, field) => {
    expect(failure(() => validateRegisterInput(input))).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('gives an address one spelling: NFC, lower case, IDN domain in ASCII', () => {
    const email = (value: string) => validateRegisterInput({ ...good, email: value }).email;
    expect(email('Zoe\u0301@Example.com')).toBe('zo\u00e9@example.com');
    expect(email('a@BÜCHER.example')).toBe('a@xn--bcher-kva.example');
    expect(email('a@xn--bcher-kva.example')).toBe('a@xn--bcher-kva.example');
  });

  it.each([
    ['name', 'a\u202eb'],
    ['name', '\u200b\u200d'],
    ['name', 'x\ud800'],
    ['deviceInfo', '\u2066phone'],
    ['deviceInfo', '\ufeff\u2060'],
    ['email', 'a\u202e@b.co'],
  ])('refuses misleading text in %s (%j)', (field, value) => {
    expect(failure(() => validateRegisterInput({ ...good, [field]: value }))).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('counts characters, not UTF-16 units: 100 emoji are a valid name', () => {
    expect(validateRegisterInput({ ...good, name: '😀'.repeat(100) }).name).toBe('😀'.repeat(100));
  });
});

describe('validateLoginInput()', () => {
  it('refuses operator objects before any query', () => {
    expect(failure(() => validateLoginInput({ email: 'a@b.co', password: { $ne: null } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    expect(failure(() => validateLoginInput({ email: { $regex: '.*' }, password: 'x' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
  });
});

describe('validateSessionId()', () => {
  it('accepts a UUID and refuses anything else', () => {
    expect(validateSessionId('0b6f7a52-8a0c-4a55-9d8e-2c3f4b5a6d7e')).toBe('0b6f7a52-8a0c-4a55-9d8e-2c3f4b5a6d7e');
    expect(failure(() => validateSessionId('abc'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });
});
