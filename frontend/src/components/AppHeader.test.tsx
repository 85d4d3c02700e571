import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import { saveDraftPart, loadDraft } from '../lib/caseDraft';
import { AppHeader } from './AppHeader';

afterEach(() => {
  vi.restoreAllMocks();
  sessionStorage.clear();
});

const clin = { id: 1, username: 'clin', roles: ['clinician' as const], password_change_required: false };

describe('AppHeader, Sign out', () => {
  it.each([
    ['the server cannot be reached', new ApiError(0, 'Cannot reach the server.')],
    ['the server fails', new ApiError(503, 'The service is unavailable.')],
  ])('stays signed in, says so and offers a retry when %s', async (_what, failure) => {
    const logout = vi.spyOn(api, 'logout').mockRejectedValueOnce(failure).mockResolvedValueOnce(undefined);
    saveDraftPart('clin', 5, { caseVerdict: { verdict: 'normal', comment: 'unsaved' } });
    renderAt(<AppHeader me={clin} />, { path: '/cases/5' });
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Sign-out failed, you are still signed in');
    expect(alert).toHaveTextContent(failure.message);
    expect(screen.getByTestId('location')).toHaveTextContent('/cases/5');
    // nothing was cleared as if signed out
    expect(loadDraft('clin', 5).caseVerdict).toBeDefined();

    await userEvent.click(screen.getByRole('button', { name: 'Retry sign-out' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(logout).toHaveBeenCalledTimes(2);
    expect(loadDraft('clin', 5).caseVerdict).toBeUndefined();
  });

  it('treats a 401 as already signed out', async () => {
    vi.spyOn(api, 'logout').mockRejectedValue(new ApiError(401, 'Not signed in.'));
    renderAt(<AppHeader me={clin} />, { path: '/cases/5' });
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});
