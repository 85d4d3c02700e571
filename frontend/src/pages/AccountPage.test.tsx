import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import type { ApiToken } from '../api/types';
import AccountPage from './AccountPage';
import { LoginPage } from './LoginPage';
import { passwordFormError } from '../lib/password';

const token = (over: Partial<ApiToken> = {}): ApiToken => ({
  id: 4,
  user_id: 1,
  name: 'pacs',
  prefix: 'nt_ab12',
  created_at: '2026-01-01T10:00:00Z',
  last_used_at: null,
  revoked_at: null,
  expires_at: '2099-01-01T10:00:00Z',
  ...over,
});

beforeEach(() => {
  vi.spyOn(api, 'me').mockResolvedValue({ id: 1, username: 'coord', roles: ['coordinator'], password_change_required: false });
});
afterEach(() => vi.restoreAllMocks());

describe('passwordFormError', () => {
  it('checks the form before sending', () => {
    expect(passwordFormError({ current: '', next: 'x', confirm: 'x' })).toMatch(/current/);
    expect(passwordFormError({ current: 'old', next: 'short', confirm: 'short' })).toMatch(/at least 10/);
    expect(passwordFormError({ current: 'old', next: 'long enough 1', confirm: 'long enough 2' })).toMatch(/differ/);
    expect(passwordFormError({ current: 'long enough 1', next: 'long enough 1', confirm: 'long enough 1' })).toMatch(/same/);
    expect(passwordFormError({ current: 'old', next: 'long enough 1', confirm: 'long enough 1' })).toBeNull();
  });
});

describe('AccountPage', () => {
  it('asks a user whose password an admin set to choose their own first, and offers nothing else', async () => {
    vi.mocked(api.me).mockResolvedValue({ id: 1, username: 'locum', roles: ['clinician'], password_change_required: true });
    const tokens = vi.spyOn(api, 'listMyTokens').mockResolvedValue([]);
    renderAt(<AccountPage />, { path: '/account' });
    expect(await screen.findByTestId('password-change-required')).toHaveTextContent(
      'An administrator set your password. Choose your own below',
    );
    expect(screen.getByRole('button', { name: 'Change password' })).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: /API tokens/ })).not.toBeInTheDocument();
    expect(tokens).not.toHaveBeenCalled();
  });

  it('changes the password, then sends the user to sign in with a message', async () => {
    vi.spyOn(api, 'listMyTokens').mockResolvedValue([]);
    const change = vi.spyOn(api, 'changeOwnPassword').mockResolvedValue({ tokens_revoked: 2 });
    renderAt(<AccountPage />, { path: '/account' });
    await userEvent.type(screen.getByLabelText('Current password'), 'old password');
    await userEvent.type(screen.getByLabelText('New password'), 'new password 1');
    await userEvent.type(screen.getByLabelText('Confirm new password'), 'new password 2');
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));
    expect(screen.getByRole('alert')).toHaveTextContent('differ');
    expect(change).not.toHaveBeenCalled();
    await userEvent.clear(screen.getByLabelText('Confirm new password'));
    await userEvent.type(screen.getByLabelText('Confirm new password'), 'new password 1');
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));
    expect(change).toHaveBeenCalledWith('old password', 'new password 1');
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login?reason=password-changed-tokens'));
  });

  it('says nothing of API tokens after a change when the user had none', async () => {
    vi.spyOn(api, 'listMyTokens').mockResolvedValue([]);
    vi.spyOn(api, 'changeOwnPassword').mockResolvedValue({ tokens_revoked: 0 });
    renderAt(<AccountPage />, { path: '/account' });
    await userEvent.type(screen.getByLabelText('Current password'), 'old password');
    await userEvent.type(screen.getByLabelText('New password'), 'new password 1');
    await userEvent.type(screen.getByLabelText('Confirm new password'), 'new password 1');
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/\/login\?reason=password-changed$/));
  });

  it('says before the change that it ends every session and revokes the API tokens', async () => {
    vi.spyOn(api, 'listMyTokens').mockResolvedValue([]);
    renderAt(<AccountPage />, { path: '/account' });
    expect(screen.getByTestId('password-change-note')).toHaveTextContent('ends every session');
    expect(screen.getByTestId('password-change-note')).toHaveTextContent('revokes all your API tokens');
  });

  it('shows the server error of a wrong current password', async () => {
    vi.spyOn(api, 'listMyTokens').mockResolvedValue([]);
    vi.spyOn(api, 'changeOwnPassword').mockRejectedValue(new ApiError(422, 'The current password is wrong.'));
    renderAt(<AccountPage />, { path: '/account' });
    await userEvent.type(screen.getByLabelText('Current password'), 'bad password');
    await userEvent.type(screen.getByLabelText('New password'), 'new password 1');
    await userEvent.type(screen.getByLabelText('Confirm new password'), 'new password 1');
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The current password is wrong.');
    expect(screen.getByTestId('location')).toHaveTextContent('/account');
  });

  it('lists tokens, creates one shown once with a copy button, and revokes', async () => {
    const list = vi.spyOn(api, 'listMyTokens').mockResolvedValue([token()]);
    vi.spyOn(api, 'createMyToken').mockResolvedValue({ ...token({ id: 5, name: 'script' }), token: 'nt_secret_value' });
    const revoke = vi.spyOn(api, 'revokeMyToken').mockResolvedValue(undefined);
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    renderAt(<AccountPage />, { path: '/account' });
    const table = await screen.findByRole('table', { name: 'Your API tokens' });
    expect(within(table).getByText('nt_ab12…')).toBeInTheDocument();

    list.mockResolvedValue([token(), token({ id: 5, name: 'script' })]);
    await userEvent.type(screen.getByLabelText('Token name'), 'script');
    await userEvent.click(screen.getByRole('button', { name: 'Create token' }));
    expect(await screen.findByLabelText('New API token')).toHaveValue('nt_secret_value');
    expect(screen.getByRole('status')).toHaveTextContent('Token script created');
    await userEvent.click(screen.getByRole('button', { name: 'Copy token' }));
    expect(writeText).toHaveBeenCalledWith('nt_secret_value');
    expect(await screen.findByText('Copied to the clipboard.')).toBeInTheDocument();

    await userEvent.click(await screen.findByRole('button', { name: 'Revoke token script (nt_ab12…)' }));
    await userEvent.click(screen.getByRole('button', { name: 'Revoke “script” now' }));
    expect(revoke).toHaveBeenCalledWith(5);
    expect(await screen.findByRole('status')).toHaveTextContent('Token script revoked');
    // the one-time token display goes with it
    expect(screen.queryByLabelText('New API token')).not.toBeInTheDocument();
  });

  it('asks before revoking, naming the token; Cancel keeps it', async () => {
    vi.spyOn(api, 'listMyTokens').mockResolvedValue([token({ id: 5, name: 'script' })]);
    const revoke = vi.spyOn(api, 'revokeMyToken').mockResolvedValue(undefined);
    renderAt(<AccountPage />, { path: '/account' });
    const button = await screen.findByRole('button', { name: /^Revoke token script/ });
    expect(button).toHaveAttribute('aria-expanded', 'false');
    await userEvent.click(button);
    expect(revoke).not.toHaveBeenCalled();
    expect(button).toHaveAttribute('aria-expanded', 'true');
    const ask = screen.getByRole('group', { name: 'Revoke “script” (nt_ab12…)?' });
    expect(ask).toHaveTextContent('Revoke “script”? Scripts using it stop working at once. This cannot be undone.');
    await userEvent.click(within(ask).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('group', { name: /^Revoke/ })).not.toBeInTheDocument();
    expect(revoke).not.toHaveBeenCalled();

    await userEvent.click(button);
    await userEvent.click(screen.getByRole('button', { name: 'Revoke “script” now' }));
    expect(revoke).toHaveBeenCalledTimes(1);
    expect(revoke).toHaveBeenCalledWith(5);
    expect(await screen.findByRole('status')).toHaveTextContent('Token script revoked');
  });

  it('tells apart the revoke buttons of two tokens with the same name, and revokes the one asked about', async () => {
    vi.spyOn(api, 'listMyTokens').mockResolvedValue([
      token({ id: 8, name: 'dup', prefix: 'ntk_aaaa1111' }),
      token({ id: 9, name: 'dup', prefix: 'ntk_bbbb2222' }),
    ]);
    const revoke = vi.spyOn(api, 'revokeMyToken').mockResolvedValue(undefined);
    renderAt(<AccountPage />, { path: '/account' });
    const table = await screen.findByRole('table', { name: 'Your API tokens' });
    const [first, second] = within(table).getAllByRole('button');
    expect(first).toHaveAccessibleName('Revoke token dup (ntk_aaaa1111…)');
    expect(second).toHaveAccessibleName('Revoke token dup (ntk_bbbb2222…)');
    await userEvent.click(within(table).getByRole('button', { name: 'Revoke token dup (ntk_bbbb2222…)' }));
    // one question at a time, so its buttons are the only ones of their name
    await userEvent.click(within(table).getByRole('button', { name: 'Revoke “dup” now' }));
    expect(revoke).toHaveBeenCalledWith(9);
  });

  it('makes a token for the chosen time, says until when it works, and offers no revoke for an expired one', async () => {
    vi.spyOn(api, 'listMyTokens').mockResolvedValue([
      token({ name: 'old', expires_at: '2026-01-02T10:00:00Z' }),
      token({ id: 6, name: 'revoked', revoked_at: '2026-01-01T11:00:00Z' }),
    ]);
    const create = vi
      .spyOn(api, 'createMyToken')
      .mockResolvedValue({ ...token({ id: 7, name: 'yearly', expires_at: '2027-12-06T10:00:00Z' }), token: 'ntk_x' });
    renderAt(<AccountPage />, { path: '/account' });
    const table = await screen.findByRole('table', { name: 'Your API tokens' });
    const old = within(table).getByText('old').closest('tr')!;
    expect(old).toHaveTextContent('expired');
    expect(within(old).queryByRole('button')).not.toBeInTheDocument();
    expect(within(table).getByText('revoked').closest('tr')).toHaveTextContent('revoked 1 Jan 2026');

    expect(screen.getByLabelText('Valid for')).toHaveValue('90');
    await userEvent.selectOptions(screen.getByLabelText('Valid for'), '1 year');
    await userEvent.type(screen.getByLabelText('Token name'), 'yearly');
    await userEvent.click(screen.getByRole('button', { name: 'Create token' }));
    expect(create).toHaveBeenCalledWith('yearly', 365);
    expect(await screen.findByText(/It works until/)).toHaveTextContent('6 Dec 2027');
  });

  it('shows a load error with a retry', async () => {
    vi.spyOn(api, 'listMyTokens').mockRejectedValue(new ApiError(500, 'Server error.'));
    renderAt(<AccountPage />, { path: '/account' });
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load your tokens: Server error.');
    expect(screen.getByRole('button', { name: 'Retry loading tokens' })).toBeInTheDocument();
  });
});

describe('LoginPage after a password change', () => {
  it('says why the user has to sign in again', async () => {
    renderAt(<LoginPage />, { path: '/login?reason=password-changed-tokens' });
    expect(screen.getByRole('status')).toHaveTextContent('Your password was changed');
    expect(screen.getByRole('status')).toHaveTextContent('every session ended and your API tokens were revoked');
  });

  it('does not speak of revoked API tokens to a user who had none', async () => {
    renderAt(<LoginPage />, { path: '/login?reason=password-changed' });
    expect(screen.getByRole('status')).toHaveTextContent('Your password was changed and every session of yours ended');
    expect(screen.getByRole('status')).not.toHaveTextContent('token');
  });
});
