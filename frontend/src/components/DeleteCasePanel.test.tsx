import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { QueryClientProvider } from '@tanstack/react-query';
import { renderAt } from '../test/render';
import { caseDetail } from '../test/caseDetail';
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import { makeQueryClient } from '../api/queries';
import { rememberWorklist } from '../lib/worklistMemory';
import { WorklistPage } from '../pages/WorklistPage';
import { DeleteCasePanel } from './DeleteCasePanel';

afterEach(() => vi.restoreAllMocks());

async function openWithReason(reason: string) {
  await userEvent.click(screen.getByRole('button', { name: 'Delete case…' }));
  await userEvent.type(screen.getByRole('textbox', { name: /Reason/ }), reason);
}

describe('DeleteCasePanel', () => {
  it('deletes with the trimmed reason and goes back to the worklist the reader came from', async () => {
    rememberWorklist({ search: '?triage=urgent', query: { triage: 'urgent' }, ids: [5], total: 1 });
    const remove = vi.spyOn(api, 'deleteCase').mockResolvedValue();
    renderAt(<DeleteCasePanel c={caseDetail()} />, { path: '/cases/5' });
    await openWithReason('  consent withdrawn  ');
    expect(screen.getByText(/will be deleted with its scan/)).toHaveTextContent('Case 5 (case five)');
    await userEvent.click(screen.getByRole('button', { name: 'Delete case 5' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/?triage=urgent'));
    expect(remove).toHaveBeenCalledWith(5, 'consent withdrawn');
  });

  it('warns that a reader has the case open, and not once their claim has lapsed', async () => {
    const soon = new Date(Date.now() + 10 * 60_000).toISOString();
    const first = renderAt(<DeleteCasePanel c={caseDetail({ claimed_by: 'clin1', claimed_until: soon })} />, { path: '/cases/5' });
    await openWithReason('consent withdrawn');
    expect(screen.getByTestId('delete-while-read')).toHaveTextContent('clin1 has this case open');
    first.unmount();
    const past = new Date(Date.now() - 60_000).toISOString();
    renderAt(<DeleteCasePanel c={caseDetail({ claimed_by: 'clin1', claimed_until: past })} />, { path: '/cases/5' });
    await openWithReason('consent withdrawn');
    expect(screen.queryByTestId('delete-while-read')).not.toBeInTheDocument();
  });

  it('needs a reason of three characters or more before it deletes', async () => {
    const remove = vi.spyOn(api, 'deleteCase').mockResolvedValue();
    renderAt(<DeleteCasePanel c={caseDetail()} />, { path: '/cases/5' });
    await openWithReason('  no ');
    const confirm = screen.getByRole('button', { name: 'Delete case 5' });
    expect(confirm).toHaveAttribute('aria-disabled', 'true');
    await userEvent.click(confirm);
    expect(remove).not.toHaveBeenCalled();
    // and says why, rather than doing nothing
    expect(screen.getByRole('alert')).toHaveTextContent('Give a reason of at least 3 characters');
  });

  it('is not offered while a run is queued or running', async () => {
    renderAt(<DeleteCasePanel c={caseDetail({ status: 'running' })} />, { path: '/cases/5' });
    const open = screen.getByRole('button', { name: 'Delete case…' });
    expect(open).toHaveAttribute('aria-disabled', 'true');
    await userEvent.click(open);
    expect(screen.queryByRole('textbox', { name: /Reason/ })).not.toBeInTheDocument();
    expect(screen.getByText(/cancel it or wait for it first/)).toBeInTheDocument();
  });

  it('says why a refused deletion failed and keeps the reason and the page', async () => {
    vi.spyOn(api, 'deleteCase').mockRejectedValue(
      new ApiError(409, 'Run 9 of case 5 is still queued or running: cancel it, or wait until it has finished.'),
    );
    renderAt(<DeleteCasePanel c={caseDetail()} />, { path: '/cases/5' });
    await openWithReason('wrong study');
    await userEvent.click(screen.getByRole('button', { name: 'Delete case 5' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The case was not deleted: Run 9 of case 5');
    expect(screen.getByRole('textbox', { name: /Reason/ })).toHaveValue('wrong study');
    expect(screen.getByTestId('location')).toHaveTextContent('/cases/5');
  });
});

function StateProbe() {
  return <div data-testid="history-state">{JSON.stringify(useLocation().state)}</div>;
}

describe('the worklist after a deletion', () => {
  it('shows what the case page said, and clears it from the history entry', async () => {
    vi.spyOn(api, 'listCases').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 25 });
    vi.spyOn(api, 'me').mockResolvedValue({ username: 'coord', roles: ['coordinator'] } as never);
    const qc = makeQueryClient();
    render(
      <QueryClientProvider client={qc}>
        <MemoryRouter
          initialEntries={[{ pathname: '/', state: { notice: 'Case 5 (case five) was deleted.' } }]}
          future={{ v7_startTransition: true, v7_relativeSplatPath: true }}
        >
          <Routes>
            <Route path="/" element={<WorklistPage />} />
          </Routes>
          <StateProbe />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    expect(await screen.findByText('Case 5 (case five) was deleted.')).toHaveAttribute('role', 'status');
    // a reload or Back would otherwise show it again, and keep the label in the tab's history
    await waitFor(() => expect(screen.getByTestId('history-state')).toHaveTextContent('null'));
    expect(screen.getByText('Case 5 (case five) was deleted.')).toBeInTheDocument();
  });
});
