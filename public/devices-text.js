// What the /devices page says for each revocation reason and timeline type (public/devices.js).

export const SIGNED_OUT = {
  LOGOUT: 'You signed out on this device.',
  LOGOUT_ALL: 'This device was signed out: someone chose “sign out everywhere”.',
  REVOKED: 'This device was signed out from another device.',
  PASSWORD_CHANGED: 'This device was signed out: the password was changed.',
  ACCOUNT_DELETED: 'This account was deleted.',
  SESSION_LIMIT: 'This device was signed out: too many devices were signed in.',
  ADMIN_REVOKED: 'This device was signed out by an administrator.',
  EXPIRED: 'Your session expired. Sign in again.',
  TOKEN_REUSE: 'This device was signed out: its sign-in was used from somewhere else. Sign in again, and consider changing your password.',
  UNAUTHENTICATED: 'Your session has ended. Sign in again.',
};

export const ACTIVITY = {
  SIGNED_IN: 'Signed in',
  SIGNED_OUT: 'Signed out',
  SESSION_REVOKED: 'Signed a device out',
  SESSION_REPORTED: 'Reported a device as not yours and signed it out',
  SIGNED_OUT_EVERYWHERE: 'Signed out everywhere',
  PASSWORD_CHANGED: 'Changed the password',
  FAILED_SIGN_IN: 'Failed sign-in',
  SIGN_IN_THROTTLED: 'Sign-in refused: too many attempts',
  REVOKED_BY_ADMIN: 'An administrator signed devices out',
  BLOCKED_BY_ADMIN: 'An administrator blocked sign-in',
  UNBLOCKED_BY_ADMIN: 'An administrator allowed sign-in again',
  EXPIRED: 'A session expired',
  TOKEN_REUSE: 'A stolen sign-in was caught: that device was signed out',
};
