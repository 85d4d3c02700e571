import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { LoginPage } from './LoginPage';
import { api } from '../api/client';
import { ApiError } from '../api/errors';

afterEach(() => vi.restoreAllMocks());

describe('LoginPage', () => {
  it('shows the server message in an alert on a wrong password', async () => {
    vi.spyOn(api, 'login').mockRejectedValue(new ApiError(401, 'Wrong username or password.'));
    renderAt(<LoginPage />, { path: '/login', route: '/login' });
    await userEvent.type(screen.getByLabelText('Username'), 'clin');
    await userEvent.type(screen.getByLabelText('Password'), 'nope');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Wrong username or password.');
    expect(screen.getByLabelText('Password')).toHaveValue('');
  });

  it('asks for what is missing in words, without sending an empty sign-in', async () => {
    const login = vi.spyOn(api, 'login');
    renderAt(<LoginPage />, { path: '/login', route: '/login' });
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/^Enter your username and password\.$/);
    expect(screen.getByLabelText('Username')).toHaveFocus();
    await userEvent.type(screen.getByLabelText('Username'), 'clin');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByRole('alert')).toHaveTextContent(/^Enter your password\.$/);
    expect(screen.getByLabelText('Password')).toHaveFocus();
    expect(login).not.toHaveBeenCalled();
  });

  it('says why the service ended the session, and still returns to where the reader was', async () => {
    renderAt(<LoginPage />, { path: '/login?next=%2Fcases%2F7&reason=idle', route: '/login' });
    expect(screen.getByRole('status')).toHaveTextContent('Your session ended after a while without activity.');
    expect(screen.queryByText('Please sign in to continue.')).not.toBeInTheDocument();
  });

  it('returns to the remembered page after signing in', async () => {
    vi.spyOn(api, 'login').mockResolvedValue({ id: 1, username: 'clin', roles: ['clinician'], password_change_required: false });
    renderAt(<LoginPage />, { path: '/login?next=%2Fcases%2F42', route: '/login' });
    await userEvent.type(screen.getByLabelText('Username'), 'clin');
    await userEvent.type(screen.getByLabelText('Password'), 'pw{Enter}');
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/cases/42'));
    expect(api.login).toHaveBeenCalledWith('clin', 'pw');
  });

  it('ignores an off-site next parameter', async () => {
    vi.spyOn(api, 'login').mockResolvedValue({ id: 1, username: 'clin', roles: ['clinician'], password_change_required: false });
    renderAt(<LoginPage />, { path: '/login?next=%2F%2Fevil.example', route: '/login' });
    await userEvent.type(screen.getByLabelText('Username'), 'clin');
    await userEvent.type(screen.getByLabelText('Password'), 'pw{Enter}');
    await waitFor(() => expect(screen.getByTestId('location').textContent).toBe('/'));
  });
});
