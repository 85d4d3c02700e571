import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Link, useNavigate } from 'react-router-dom';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import type { CaseSummary } from '../api/types';
import { queryFromParams, reviewText, WorklistPage } from './WorklistPage';
import { lastWorklist } from '../lib/worklistMemory';

const summary = (over: Partial<CaseSummary>): CaseSummary =>
  ({
    id: 1,
    label: 'x',
    sequence: 't1',
    uploaded_at: '2026-01-01T10:00:00Z',
    status: 'succeeded',
    progress: 100,
    stage: null,
    score: 0.0123,
    triage: 'urgent',
    rescan_recommended: false,
    flag_count: 3,
    reviewed: false,
    review_state: 'unreviewed',
    my_review_state: 'unreviewed',
    claimed_by: null,
    claimed_until: null,
    model: null,
    // a result exists only once a run succeeded (unless a test says otherwise)
    result_run_id: (over.status ?? 'succeeded') === 'succeeded' ? 1 : null,
    ...over,
  }) as CaseSummary;

beforeEach(() => {
  vi.spyOn(api, 'me').mockResolvedValue({ id: 1, username: 'clin', roles: ['clinician'], password_change_required: false });
});
afterEach(() => {
  vi.restoreAllMocks();
  sessionStorage.clear();
});

describe('queryFromParams', () => {
  it('reads only valid filters from the address', () => {
    const q = queryFromParams(new URLSearchParams('status=running&mine=1&unreviewed=1&q=%20abc%20&sort=score&order=asc&page=3'));
    expect(q).toEqual({ page: 3, page_size: 25, status: 'running', mine: true, unreviewed: true, q: 'abc', sort: 'score', order: 'asc' });
    expect(queryFromParams(new URLSearchParams('status=bogus&sort=evil&page=-2'))).toEqual({ page: 1, page_size: 25 });
  });
  it('reads the triage, flagged and screening filters', () => {
    expect(queryFromParams(new URLSearchParams('triage=urgent&flagged=1&screening=checks&status=succeeded'))).toEqual({
      page: 1,
      page_size: 25,
      status: 'succeeded',
      triage: 'urgent',
      flagged: true,
      screening: 'checks',
    });
    expect(queryFromParams(new URLSearchParams('screening=lesions')).screening).toBe('lesions');
    expect(queryFromParams(new URLSearchParams('triage=URGENT&flagged=yes&screening=none'))).toEqual({ page: 1, page_size: 25 });
  });
});

/** Ticks the worklist filter ``name`` and checks the list is asked for again with ``sent``. */
async function expectFilterSent(name: string, sent: Record<string, unknown>) {
  vi.spyOn(api, 'models').mockResolvedValue({ models: [], checks_only_sequences: [], default_profile: 'fast', reported_at: null } as never);
  const list = vi.spyOn(api, 'listCases').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 25 });
  renderAt(<WorklistPage />);
  await userEvent.click(await screen.findByRole('checkbox', { name }));
  await waitFor(() => expect(list).toHaveBeenLastCalledWith(expect.objectContaining(sent), expect.anything()));
}

describe('the Review column and the second reader', () => {
  it("tells a clinician whether they have read the case, since a colleague's read does not count for theirs", () => {
    const read = summary({ review_state: 'reviewed', my_review_state: 'reviewed' });
    const othersRead = summary({ review_state: 'reviewed', my_review_state: 'unreviewed' });
    const othersBusy = summary({ review_state: 'in_progress', my_review_state: 'unreviewed' });
    const mineBusy = summary({ review_state: 'reviewed', my_review_state: 'in_progress' });
    expect([read, othersRead, othersBusy, mineBusy, summary({})].map((c) => reviewText(c, true))).toEqual([
      'Read by you', 'Read by others, not you', 'In progress (others)', 'In progress (you)', 'Unreviewed',
    ]);
    // a coordinator sees whether anyone has
    expect([read, othersRead, othersBusy].map((c) => reviewText(c, false))).toEqual(['Reviewed', 'Reviewed', 'In progress']);
    expect(reviewText(summary({ status: 'queued' }), true)).toBe('—');
  });

  it('lets a clinician list the cases they have not read', async () => {
    await expectFilterSent('Not read by me', { unread_by_me: true });
    expect(queryFromParams(new URLSearchParams('unread=1')).unread_by_me).toBe(true);
  });
});

describe('the Review column and readers who disagree', () => {
  it('says so beside a read case, and lists only such cases when asked', async () => {
    const disputed = summary({ review_state: 'reviewed', my_review_state: 'reviewed', readers_disagree: true });
    expect(reviewText(disputed, false)).toBe('Reviewed · readers disagree');
    expect(reviewText(disputed, true)).toBe('Read by you · readers disagree');
    expect(reviewText(summary({ review_state: 'reviewed', my_review_state: 'reviewed' }), false)).toBe('Reviewed');
    await expectFilterSent('Readers disagree', { disputed: true });
    expect(queryFromParams(new URLSearchParams('disputed=1')).disputed).toBe(true);
  });
});

describe('queryFromParams, page', () => {
  it('sends only a page the API takes: a whole number from 1, capped at its bound', () => {
    const page = (v: string) => queryFromParams(new URLSearchParams(`page=${v}`)).page;
    expect(page('2')).toBe(2);
    expect(page('2.5')).toBe(1);
    expect(page('0')).toBe(1);
    expect(page('abc')).toBe(1);
    expect(page('1e10')).toBe(2 ** 31 - 1);
    expect(page('99999999999999999999')).toBe(2 ** 31 - 1);
  });
});

describe('WorklistPage, the address', () => {
  beforeEach(() => {
    vi.spyOn(api, 'models').mockResolvedValue({ models: [], checks_only_sequences: [], default_profile: 'fast', reported_at: null } as never);
  });

  it('gives the cases and their filters a heading and a name, for screen readers to go to', async () => {
    vi.spyOn(api, 'listCases').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 25 });
    renderAt(<WorklistPage />);
    const cases = await screen.findByRole('region', { name: 'Cases' });
    expect(screen.getByRole('heading', { level: 2, name: 'Cases' })).toBeInTheDocument();
    expect(cases).toContainElement(screen.getByRole('search', { name: 'Filter the cases' }));
  });

  it('keeps a filter ticked while the search text waited to be applied', async () => {
    const list = vi.spyOn(api, 'listCases').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 25 });
    renderAt(<WorklistPage />);
    const search = await screen.findByRole('searchbox', { name: 'Search' });
    fireEvent.change(search, { target: { value: 'glioma' } });
    fireEvent.click(screen.getByRole('checkbox', { name: 'Flagged only' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('q=glioma'), { timeout: 1000 });
    expect(screen.getByTestId('location')).toHaveTextContent('flagged=1');
    expect(screen.getByRole('checkbox', { name: 'Flagged only' })).toBeChecked();
    await waitFor(() => expect(list).toHaveBeenLastCalledWith(expect.objectContaining({ q: 'glioma', flagged: true }), expect.anything()));
  });

  it('remembers its address and the ids it shows, in order, for the case page', async () => {
    vi.spyOn(api, 'listCases').mockResolvedValue({
      items: [summary({ id: 9, label: 'a' }), summary({ id: 4, label: 'b' })],
      total: 27,
      page: 2,
      page_size: 25,
    });
    renderAt(<WorklistPage />, { path: '/?triage=urgent&page=2' });
    await screen.findByRole('link', { name: 'a' });
    await waitFor(() =>
      expect(lastWorklist()).toEqual({
        search: '?triage=urgent&page=2',
        query: { page: 2, page_size: 25, triage: 'urgent' },
        ids: [9, 4],
        total: 27,
      }),
    );
  });
});

describe('WorklistPage', () => {
  it('lists cases with the required columns, links and row hooks', async () => {
    vi.spyOn(api, 'listCases').mockResolvedValue({
      items: [
        summary({ id: 7, label: 'lesion 01', claimed_by: 'alice' }),
        summary({ id: 8, label: 'normal 02', status: 'running', progress: 40, stage: 'threshold search', score: null, triage: null }),
        summary({ id: 9, label: 'bad 03', status: 'failed', score: null, triage: null }),
      ],
      total: 3,
      page: 1,
      page_size: 25,
    });
    renderAt(<WorklistPage />);
    expect(screen.getByRole('heading', { name: 'Worklist' })).toBeInTheDocument();
    const table = await screen.findByRole('table');
    const headers = within(table).getAllByRole('columnheader').map((h) => h.textContent);
    expect(headers.slice(0, 6)).toEqual(['Label', 'Uploaded', 'Status', 'Score', 'Flags', 'Review']);
    const link = await screen.findByRole('link', { name: 'lesion 01' });
    expect(link).toHaveAttribute('href', '/cases/7');
    const row = link.closest('tr')!;
    expect(row).toHaveAttribute('data-case-id', '7');
    expect(row).toHaveTextContent('succeeded');
    expect(row).toHaveTextContent('0.0123');
    expect(row).toHaveTextContent('Unreviewed');
    expect(row).toHaveTextContent('alice');
    const running = screen.getByRole('link', { name: 'normal 02' }).closest('tr')!;
    expect(running).toHaveTextContent('running 40% · threshold search');
    expect(within(running).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '40');
    expect(screen.getByRole('link', { name: 'bad 03' }).closest('tr')).toHaveTextContent('failed');
    // the upload form
    expect(screen.getByLabelText('Scan file')).toHaveAttribute('type', 'file');
    expect(screen.getByLabelText('Case label')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Upload' })).toBeInTheDocument();
  });

  it('marks cases whose scan must be repeated with a rescan chip', async () => {
    vi.spyOn(api, 'listCases').mockResolvedValue({
      items: [
        summary({ id: 1, label: 'urgent and gappy', triage: 'urgent', rescan_recommended: true }),
        summary({ id: 2, label: 'gappy', triage: 'rescan', rescan_recommended: true }),
        summary({ id: 3, label: 'flagged', triage: 'review' }),
      ],
      total: 3,
      page: 1,
      page_size: 25,
    });
    renderAt(<WorklistPage />);
    const chips = async (label: string) =>
      Array.from((await screen.findByRole('link', { name: label })).closest('tr')!.querySelectorAll('.chip')).map(
        (chip) => [chip.textContent, chip.className],
      );
    expect(await chips('gappy')).toEqual([['rescan', 'chip triage-rescan']]);
    // an urgent finding keeps the urgent chip; the rescan chip says the scan must be repeated as well
    expect(await chips('urgent and gappy')).toEqual([
      ['urgent', 'chip triage-urgent'],
      ['rescan', 'chip triage-rescan'],
    ]);
    expect(await chips('flagged')).toEqual([['review', 'chip triage-review']]);
  });

  it('shows the earlier result of a case that is being re-run', async () => {
    vi.spyOn(api, 'listCases').mockResolvedValue({
      items: [summary({ id: 4, label: 'rerun', status: 'queued', result_run_id: 2, triage: 'urgent', flag_count: 3 })],
      total: 1,
      page: 1,
      page_size: 25,
    });
    renderAt(<WorklistPage />);
    const row = (await screen.findByRole('link', { name: 'rerun' })).closest('tr')!;
    expect(row).toHaveTextContent('queued');
    expect(row.querySelector('.chip')).toHaveTextContent('urgent');
    expect(row.querySelectorAll('td')[4]).toHaveTextContent('3');
    expect(row).toHaveTextContent('Unreviewed');
  });

  it('sends the triage, flagged and not-screened filters and keeps them in the address', async () => {
    const list = vi.spyOn(api, 'listCases').mockResolvedValue({ items: [summary({ id: 7, label: 'lesion 01' })], total: 1, page: 1, page_size: 25 });
    renderAt(<WorklistPage />, { path: '/?page=2' });
    await screen.findByRole('link', { name: 'lesion 01' });
    const lastQuery = () => list.mock.calls[list.mock.calls.length - 1][0];
    expect(lastQuery()).toEqual({ page: 2, page_size: 25 });

    await userEvent.selectOptions(screen.getByLabelText('Triage'), 'urgent');
    await waitFor(() => expect(lastQuery()).toEqual({ page: 1, page_size: 25, triage: 'urgent' }));
    expect(screen.getByTestId('location')).toHaveTextContent('/?triage=urgent'); // a new filter starts at page 1

    await userEvent.click(screen.getByRole('checkbox', { name: 'Flagged only' }));
    await waitFor(() => expect(lastQuery()).toEqual({ page: 1, page_size: 25, triage: 'urgent', flagged: true }));

    await userEvent.click(screen.getByRole('checkbox', { name: 'Not screened for lesions' }));
    await waitFor(() =>
      expect(lastQuery()).toEqual({ page: 1, page_size: 25, triage: 'urgent', flagged: true, screening: 'checks' }),
    );
    expect(screen.getByTestId('location')).toHaveTextContent('/?triage=urgent&flagged=1&screening=checks');
    expect(screen.getByLabelText('Triage')).toHaveValue('urgent');
    expect(screen.getByRole('checkbox', { name: 'Flagged only' })).toBeChecked();

    // and off again
    await userEvent.selectOptions(screen.getByLabelText('Triage'), '');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Flagged only' }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Not screened for lesions' }));
    await waitFor(() => expect(lastQuery()).toEqual({ page: 1, page_size: 25 }));
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/);
  });

  it('takes the filters from the address, with the other filters', async () => {
    const list = vi.spyOn(api, 'listCases').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 25 });
    renderAt(<WorklistPage />, { path: '/?triage=rescan&flagged=1&unreviewed=1&q=abc' });
    expect(await screen.findByText('No cases match.')).toBeInTheDocument();
    expect(list).toHaveBeenCalledWith(
      { page: 1, page_size: 25, triage: 'rescan', flagged: true, unreviewed: true, q: 'abc' },
      expect.anything(),
    );
    expect(screen.getByLabelText('Triage')).toHaveValue('rescan');
    expect(screen.getByRole('checkbox', { name: 'Flagged only' })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'Not screened for lesions' })).not.toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'Unreviewed only' })).toBeChecked();
  });

  it('shows a load error with a retry', async () => {
    const { ApiError } = await import('../api/errors');
    vi.spyOn(api, 'listCases').mockRejectedValue(new ApiError(500, 'The server had an internal error.'));
    renderAt(<WorklistPage />);
    expect(await screen.findByRole('alert')).toHaveTextContent('Could not load cases: The server had an internal error.');
    expect(screen.getByRole('button', { name: 'Retry' })).toBeInTheDocument();
  });
});

describe('WorklistPage in a narrow window', () => {
  it('keeps every column in a region that scrolls sideways, which the keyboard can reach', async () => {
    vi.spyOn(api, 'models').mockResolvedValue({ models: [], checks_only_sequences: [], default_profile: 'fast', reported_at: null } as never);
    vi.spyOn(api, 'listCases').mockResolvedValue({
      items: [summary({ id: 5, label: 'left temporal', claimed_by: 'dr-a' })],
      total: 1,
      page: 1,
      page_size: 25,
    });
    renderAt(<WorklistPage />);
    const region = await screen.findByRole('region', { name: 'Cases table' });
    expect(region).toHaveClass('table-scroll');
    expect(region).toHaveAttribute('tabindex', '0');
    const table = within(region).getByRole('table');
    expect(within(table).getByRole('columnheader', { name: 'Claimed by' })).toBeInTheDocument();
    expect(await within(table).findByRole('cell', { name: 'dr-a' })).toBeInTheDocument();
  });
});

/** The page with what the app around it offers: the nav's Worklist link, another link, and the browser's Back. */
function WorklistWithNav({ otherLink = '/' }: { otherLink?: string }) {
  const navigate = useNavigate();
  return (
    <>
      <Link to="/">Worklist</Link>
      <Link to={otherLink}>Other link</Link>
      <button type="button" onClick={() => navigate(-1)}>
        Back
      </button>
      <WorklistPage />
    </>
  );
}

const location = () => screen.getByTestId('location').textContent;

describe('WorklistPage, the Search box follows the address', () => {
  beforeEach(() => {
    vi.spyOn(api, 'models').mockResolvedValue({ models: [], checks_only_sequences: [], default_profile: 'fast', reported_at: null } as never);
  });

  it('empties when the Worklist link lists every case, and shows the search again on Back', async () => {
    const list = vi.spyOn(api, 'listCases').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 25 });
    renderAt(<WorklistWithNav />, { path: '/?q=lesion' });
    const search = await screen.findByRole('searchbox', { name: 'Search' });
    expect(search).toHaveValue('lesion');

    await userEvent.click(screen.getByRole('link', { name: 'Worklist' }));
    expect(location()).toBe('/');
    await waitFor(() => expect(search).toHaveValue(''));
    expect(list).toHaveBeenLastCalledWith({ page: 1, page_size: 25 }, expect.anything());
    // nor does the search as typed come back once its delay has passed
    await new Promise((r) => setTimeout(r, 400));
    expect(location()).toBe('/');

    await userEvent.click(screen.getByRole('button', { name: 'Back' }));
    expect(location()).toBe('/?q=lesion');
    await waitFor(() => expect(search).toHaveValue('lesion'));
  });

  it('leaves what is being typed alone when the search it applies reaches the address', async () => {
    vi.spyOn(api, 'listCases').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 25 });
    renderAt(<WorklistWithNav />);
    const search = await screen.findByRole('searchbox', { name: 'Search' });
    // the space before the next word: the address holds the search trimmed, the box what was typed
    fireEvent.change(search, { target: { value: 'left ' } });
    await waitFor(() => expect(location()).toBe('/?q=left'), { timeout: 1000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(search).toHaveValue('left ');
  });
});

describe('WorklistPage past its last page', () => {
  beforeEach(() => {
    vi.spyOn(api, 'models').mockResolvedValue({ models: [], checks_only_sequences: [], default_profile: 'fast', reported_at: null } as never);
  });

  /** ``total`` cases in pages of 25, case ids from 1. */
  function casesOf(total: () => number) {
    return vi.spyOn(api, 'listCases').mockImplementation(async (q = {}) => {
      const page = q.page ?? 1;
      const ids = Array.from({ length: total() }, (_, i) => i + 1).slice((page - 1) * 25, page * 25);
      return { items: ids.map((id) => summary({ id, label: `case ${id}` })), total: total(), page, page_size: 25 };
    });
  }

  it('goes to the last page from a link past it, in place of the link in the history', async () => {
    casesOf(() => 30);
    renderAt(<WorklistWithNav otherLink="/?triage=urgent&page=99" />);
    await screen.findByRole('link', { name: 'case 1' });
    await userEvent.click(screen.getByRole('link', { name: 'Other link' }));
    await waitFor(() => expect(location()).toBe('/?triage=urgent&page=2'));
    expect(await screen.findByRole('link', { name: 'case 30' })).toBeInTheDocument();
    expect(screen.getByText('Page 2 of 2')).toBeInTheDocument();
    expect(screen.queryByText('No cases match.')).not.toBeInTheDocument();
    // Back leaves the worklist rather than land on the page that was not there
    await userEvent.click(screen.getByRole('button', { name: 'Back' }));
    expect(location()).toBe('/');
  });

  it('goes to page 1 when the cases there are fit on one page', async () => {
    const list = casesOf(() => 2);
    renderAt(<WorklistPage />, { path: '/?page=2' });
    await waitFor(() => expect(location()).toBe('/'));
    expect(await screen.findByRole('link', { name: 'case 2' })).toBeInTheDocument();
    expect(screen.getByText('2 cases')).toBeInTheDocument();
    expect(list).toHaveBeenLastCalledWith({ page: 1, page_size: 25 }, expect.anything());
  });

  it('goes back a page when the page open empties (cases read off "Unreviewed only")', async () => {
    let total = 26;
    casesOf(() => total);
    const { qc } = renderAt(<WorklistPage />, { path: '/?unreviewed=1&page=2' });
    expect(await screen.findByRole('link', { name: 'case 26' })).toBeInTheDocument();
    total = 25;
    await act(() => qc.invalidateQueries());
    await waitFor(() => expect(location()).toBe('/?unreviewed=1'));
    expect(await screen.findByRole('link', { name: 'case 25' })).toBeInTheDocument();
  });

  it('says no cases match when there are none, whatever the page', async () => {
    casesOf(() => 0);
    renderAt(<WorklistPage />, { path: '/?page=3' });
    expect(await screen.findByText('No cases match.')).toBeInTheDocument();
    expect(location()).toBe('/?page=3');
  });
});
