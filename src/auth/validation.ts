import { badInput } from '../errors.js';

/**
 * The input rules of API.md, in the one place both APIs call. Every check
 * starts with the type: REST bodies are arbitrary JSON, and an object where a
 * string belongs (`{"$ne": null}`) must stop here, before any database call.
 */

export interface RegisterInput {
  name: string;
  email: string;
  password: string;
  deviceInfo?: string | undefined;
}

export interface LoginInput {
  email: string;
  password: string;
  deviceInfo?: string | undefined;
}

// C0/C1 control characters: never meaningful in a name, an address or a device label.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the mail server's call.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

const length = (s: string): number => [...s].length;

function requireString(value: unknown, field: string): string {
  if (value === undefined || value === null) throw badInput(field, `${field} is required`);
  if (typeof value !== 'string') throw badInput(field, `${field} must be a string`);
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return requireString(value, field);
}

export function validateEmail(value: unknown): string {
  const email = requireString(value, 'email').trim().toLowerCase();
  if (email.length === 0) throw badInput('email', 'email is required');
  if (email.length > 254 || CONTROL_CHARS.test(email) || !EMAIL.test(email) || email.indexOf('@') > 64) {
    throw badInput('email', 'email must be a valid address of at most 254 characters');
  }
  return email;
}

export function validateName(value: unknown): string {
  const name = requireString(value, 'name').trim();
  if (length(name) < 1 || length(name) > 100) throw badInput('name', 'name must be 1 to 100 characters');
  if (CONTROL_CHARS.test(name)) throw badInput('name', 'name must not contain control characters');
  return name;
}

/** A password being set (register, changePassword's new one). */
export function validatePassword(value: unknown, field = 'password'): string {
  const password = requireString(value, field);
  const n = length(password);
  if (n < 8 || n > 128) throw badInput(field, `${field} must be 8 to 128 characters`);
  return password;
}

/**
 * A password being checked: only its shape, so that a password stored under
 * older rules is still accepted.
 */
export function validateCurrentPassword(value: unknown, field = 'password'): string {
  const password = requireString(value, field);
  if (password.length === 0) throw badInput(field, `${field} is required`);
  if (length(password) > 128) throw badInput(field, `${field} must be 8 to 128 characters`);
  return password;
}

export function validateDeviceInfo(value: unknown): string | undefined {
  const raw = optionalString(value, 'deviceInfo');
  if (raw === undefined) return undefined;
  const deviceInfo = raw.trim();
  if (length(deviceInfo) > 200) throw badInput('deviceInfo', 'deviceInfo must be at most 200 characters');
  if (CONTROL_CHARS.test(deviceInfo)) throw badInput('deviceInfo', 'deviceInfo must not contain control characters');
  return deviceInfo === '' ? undefined : deviceInfo;
}

function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badInput(field, `${field} must be an object`);
  }
  return value as Record<string, unknown>;
}

export function validateRegisterInput(value: unknown): RegisterInput {
  const input = requireObject(value, 'input');
  return {
    name: validateName(input.name),
    email: validateEmail(input.email),
    password: validatePassword(input.password),
    deviceInfo: validateDeviceInfo(input.deviceInfo),
  };
}

export function validateLoginInput(value: unknown): LoginInput {
  const input = requireObject(value, 'input');
  const password = validateCurrentPassword(input.password);
  return { email: validateEmail(input.email), password, deviceInfo: validateDeviceInfo(input.deviceInfo) };
}

export function validateOptionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badInput(field, `${field} must be true or false`);
  return value;
}

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Session ids are UUIDs; anything else cannot name a session. */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

export function validateSessionId(value: unknown): string {
  const id = requireString(value, 'id');
  if (!isSessionId(id)) throw badInput('id', 'id must be a session id');
  return id;
}
