/** Client-side checks of a password change before it is sent (the server has the last word). */
export interface PasswordForm {
  current: string;
  next: string;
  confirm: string;
}

export const MIN_PASSWORD_LENGTH = 10;

/** The first problem with the form, in words, or null when it may be sent. */
export function passwordFormError(f: PasswordForm): string | null {
  if (!f.current) return 'Enter your current password.';
  if (!f.next) return 'Enter a new password.';
  if (f.next.length < MIN_PASSWORD_LENGTH) return `The new password needs at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (f.next !== f.confirm) return 'The new password and its confirmation differ.';
  if (f.next === f.current) return 'The new password is the same as the current one.';
  return null;
}

/** Where a password change sends the user: the login page's notice mentions API tokens only where some went. */
export const passwordChangedPath = (tokensRevoked: number) =>
  `/login?reason=${tokensRevoked > 0 ? 'password-changed-tokens' : 'password-changed'}`;

/** Login page notice for `?reason=…`. */
export const LOGIN_REASONS: Record<string, string> = {
  'password-changed': 'Your password was changed and every session of yours ended. Sign in with the new password.',
  'password-changed-tokens':
    'Your password was changed: every session ended and your API tokens were revoked (create new ones on the ' +
    'Account page). Sign in with the new password.',
  // why the service ended a session (the 401's `reason`)
  ended: 'Your session was ended: you signed out in another tab, or your password or account was changed. Sign in again.',
  idle: 'Your session ended after a while without activity. Sign in again to continue where you were.',
  lifetime: 'Your session reached its time limit. Sign in again to continue where you were.',
  disabled: 'Your account is disabled. Ask an administrator.',
};
