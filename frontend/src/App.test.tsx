import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import { QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router-dom';
import { api } from './api/client';
import { makeQueryClient } from './api/queries';
import { AppRoutes } from './App';
import { LocationProbe } from './test/render';
import { caseListOf } from './test/caseDetail';

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

describe('a password an admin set', () => {
  it.each(['/', '/cases/5', '/audit', '/no-such-page'])('sends the user from %s to the Account page first', async (path) => {
    vi.spyOn(api, 'me').mockResolvedValue({ id: 7, username: 'locum', roles: ['clinician', 'coordinator'], password_change_required: true });
    const cases = vi.spyOn(api, 'listCases').mockResolvedValue(caseListOf([]));
    renderApp(path);
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/^\/account$/));
    expect(await screen.findByTestId('password-change-required')).toBeInTheDocument();
    expect(cases).not.toHaveBeenCalled();
  });

  it('leaves a user who chose their own password where they were going', async () => {
    vi.spyOn(api, 'me').mockResolvedValue({ id: 7, username: 'clin', roles: ['clinician'], password_change_required: false });
    vi.spyOn(api, 'listCases').mockResolvedValue(caseListOf([]));
    renderApp('/');
    expect(await screen.findByRole('heading', { name: 'Worklist' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/);
  });
});
