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

/** Login page notice for `?reason=…`. */
export const LOGIN_REASONS: Record<string, string> = {
  'password-changed':
    'Your password was changed: every session ended and your API tokens were revoked (create new ones on the ' +
    'Account page). Sign in with the new password.',
};
