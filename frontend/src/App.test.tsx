import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, render, screen, waitFor } from '@testing-library/react';
import { QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router-dom';
import { api } from './api/client';
import { makeQueryClient } from './api/queries';
import { AppRoutes } from './App';
import { LocationProbe } from './test/render';
import { caseListOf } from './test/caseDetail';
import { queueOf } from './test/models';
import { AWAY_AFTER_MS, resetPresence } from './lib/presence';

afterEach(() => vi.restoreAllMocks());

function renderApp(path: string) {
  const qc = makeQueryClient();
  qc.setDefaultOptions({ queries: { retry: false } });
  render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[path]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <AppRoutes />
        <LocationProbe />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe('runs waiting with no analysis worker', () => {
  it('are announced under the header on every page, in the service\'s words', async () => {
    vi.spyOn(api, 'me').mockResolvedValue({ id: 7, username: 'clin', roles: ['clinician'], password_change_required: false });
    vi.spyOn(api, 'listCases').mockResolvedValue(caseListOf([]));
    const notice = 'No analysis worker is running, so 2 runs are waiting and will not start until one is.';
    vi.spyOn(api, 'queue').mockResolvedValue(queueOf({ queued: 2, inference_workers_online: 0, delay_notice: notice }));
    renderApp('/');
    expect(await screen.findByTestId('queue-notice')).toHaveTextContent(`Analysis is on hold. ${notice}`);
  });

  it('say nothing while the queue moves', async () => {
    vi.spyOn(api, 'me').mockResolvedValue({ id: 7, username: 'clin', roles: ['clinician'], password_change_required: false });
    vi.spyOn(api, 'listCases').mockResolvedValue(caseListOf([]));
    const queue = vi.spyOn(api, 'queue').mockResolvedValue(queueOf({ queued: 2 }));
    renderApp('/');
    expect(await screen.findByRole('heading', { name: 'Worklist' })).toBeInTheDocument();
    await waitFor(() => expect(queue).toHaveBeenCalled());
    expect(screen.queryByTestId('queue-notice')).not.toBeInTheDocument();
  });
});

describe('back at the browser after an absence', () => {
  it('fetches what the page shows again, since its polls stopped meanwhile', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      resetPresence();
      vi.spyOn(api, 'me').mockResolvedValue({ id: 7, username: 'clin', roles: ['clinician'], password_change_required: false });
      const cases = vi.spyOn(api, 'listCases').mockResolvedValue(caseListOf([]));
      vi.spyOn(api, 'queue').mockResolvedValue(queueOf());
      renderApp('/');
      expect(await screen.findByRole('heading', { name: 'Worklist' })).toBeInTheDocument();
      await act(() => vi.advanceTimersByTimeAsync(AWAY_AFTER_MS + 20_000));
      const before = cases.mock.calls.length;
      act(() => window.dispatchEvent(new KeyboardEvent('keydown', { key: 'j' })));
      await waitFor(() => expect(cases.mock.calls.length).toBe(before + 1));
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a password an admin set', () => {
  it.each(['/', '/cases/5', '/audit', '/no-such-page'])('sends the user from %s to the Account page first', async (path) => {
    vi.spyOn(api, 'me').mockResolvedValue({ id: 7, username: 'locum', roles: ['clinician', 'coordinator'], password_change_required: true });
    const cases = vi.spyOn(api, 'listCases').mockResolvedValue(caseListOf([]));
    const queue = vi.spyOn(api, 'queue').mockResolvedValue(queueOf());
    renderApp(path);
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/^\/account$/));
    expect(await screen.findByTestId('password-change-required')).toBeInTheDocument();
    expect(cases).not.toHaveBeenCalled();
    expect(queue).not.toHaveBeenCalled(); // the service would refuse it until the password is changed
  });

  it('leaves a user who chose their own password where they were going', async () => {
    vi.spyOn(api, 'me').mockResolvedValue({ id: 7, username: 'clin', roles: ['clinician'], password_change_required: false });
    vi.spyOn(api, 'listCases').mockResolvedValue(caseListOf([]));
    vi.spyOn(api, 'queue').mockResolvedValue(queueOf());
    renderApp('/');
    expect(await screen.findByRole('heading', { name: 'Worklist' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/);
  });
});
