import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import type { CaseDetail, Flag, Job } from '../api/types';
import { catalogueOf } from '../test/models';
import { caseDetail, flagOf } from '../test/caseDetail';
import { readsOnShownRun, RunsPanel } from './RunsPanel';

afterEach(() => vi.restoreAllMocks());

const catalogue = catalogueOf([
  ['fast', 't1'],
  ['fast', 'flair'],
]);
const finished = { id: 7, status: 'succeeded', progress: 100, stage: 'done', attempts: 1, error: null,
  model_profile: 'fast', screening: 'lesions', case_id: 1, created_at: '2026-12-05T08:00:00Z', started_at: null, finished_at: null } as Job;

function renderPanel(sequence: string) {
  vi.spyOn(api, 'models').mockResolvedValue(catalogue);
  vi.spyOn(api, 'listRuns').mockResolvedValue([finished]);
  const c = { id: 1, status: 'succeeded', sequence } as CaseDetail;
  return renderAt(<RunsPanel c={c} canRerun onNotice={() => {}} />);
}

describe('RunsPanel re-run menu', () => {
  it('disables a profile without a model for the case sequence and re-runs with one that has', async () => {
    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue({ ...finished, id: 8, status: 'queued' });
    renderPanel('t1');
    const paper = await screen.findByRole('option', { name: 'paper (no T1 model installed)' });
    expect(paper).toBeDisabled();
    expect(screen.getByRole('combobox', { name: 'Model profile' })).toHaveValue('fast');
    await userEvent.click(screen.getByRole('button', { name: 'Re-run' }));
    await waitFor(() => expect(rerun).toHaveBeenCalledWith(1, 'fast', null));
  });

  it('re-runs a scan whose sequence no profile reads with the rescan checks alone, and says so', async () => {
    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue({ ...finished, id: 8, status: 'queued', screening: 'checks' });
    renderPanel('t2');
    expect(await screen.findByRole('option', { name: 'fast (rescan checks only)' })).toBeEnabled();
    await userEvent.click(screen.getByRole('button', { name: 'Re-run' }));
    await waitFor(() => expect(rerun).toHaveBeenCalledWith(1, 'fast', null));
  });
});

describe('RunsPanel, a case uploaded as the wrong sequence', () => {
  it('re-runs it as the sequence chosen, says the case changes, and points there after a mismatch', async () => {
    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue({ ...finished, id: 8, status: 'queued' });
    vi.spyOn(api, 'models').mockResolvedValue(catalogue);
    vi.spyOn(api, 'listRuns').mockResolvedValue([{ ...finished, status: 'failed' }]);
    const notices: string[] = [];
    const c = { id: 1, status: 'failed', sequence: 't1', failure: 'sequence_mismatch' } as CaseDetail;
    renderAt(<RunsPanel c={c} canRerun onNotice={(t) => notices.push(t)} />);
    expect(await screen.findByTestId('sequence-mismatch')).toHaveTextContent('does not look like a T1 scan');
    expect(screen.getByRole('combobox', { name: 'Sequence' })).toHaveValue('t1');
    expect(screen.queryByTestId('sequence-change')).not.toBeInTheDocument();
    // as T1 again it would fail the same way
    expect(screen.getByRole('button', { name: 'Re-run' })).toBeDisabled();

    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sequence' }), 'FLAIR');
    expect(screen.getByTestId('sequence-change')).toHaveTextContent('becomes a FLAIR scan');
    await userEvent.click(screen.getByRole('button', { name: 'Re-run' }));
    await waitFor(() => expect(rerun).toHaveBeenCalledWith(1, 'fast', 'flair'));
    await waitFor(() => expect(notices).toContain('Run 2 queued (fast, as FLAIR)'));
  });

  it('offers the sequence the refused run found, and never the refused one again', async () => {
    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue({ ...finished, id: 8, status: 'queued' });
    vi.spyOn(api, 'models').mockResolvedValue(catalogue);
    vi.spyOn(api, 'listRuns').mockResolvedValue([{ ...finished, status: 'failed' }]);
    const c = { id: 1, status: 'failed', sequence: 't1', failure: 'sequence_mismatch', looks_like: 'flair' } as CaseDetail;
    renderAt(<RunsPanel c={c} canRerun onNotice={() => {}} />);
    expect(await screen.findByTestId('sequence-mismatch')).toHaveTextContent(
      'The last run found that the scan looks like a FLAIR scan, not T1, so FLAIR is chosen above.',
    );
    expect(screen.getByRole('combobox', { name: 'Sequence' })).toHaveValue('flair');
    expect(screen.getByTestId('sequence-change')).toHaveTextContent('becomes a FLAIR scan');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sequence' }), 'T1');
    const button = screen.getByRole('button', { name: 'Re-run' });
    expect(button).toBeDisabled();
    expect(button).toHaveAttribute('title', 'As T1 it would fail the same way: choose the sequence it is');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sequence' }), 'FLAIR');
    await userEvent.click(screen.getByRole('button', { name: 'Re-run' }));
    await waitFor(() => expect(rerun).toHaveBeenCalledWith(1, 'fast', 'flair'));
  });

  it('sends no sequence when the reader keeps the case\'s own', async () => {
    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue({ ...finished, id: 8, status: 'queued' });
    renderPanel('flair');
    await screen.findByRole('option', { name: 'paper (no FLAIR model installed)' });
    expect(screen.queryByTestId('sequence-mismatch')).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Re-run' }));
    await waitFor(() => expect(rerun).toHaveBeenCalledWith(1, 'fast', null));
  });
});

describe('RunsPanel run history', () => {
  it('is fetched again when the shown result changes, even with the status the same between two polls', async () => {
    vi.spyOn(api, 'models').mockResolvedValue(catalogue);
    const listRuns = vi.spyOn(api, 'listRuns').mockResolvedValue([finished]);
    function Page() {
      const [shown, setShown] = useState(7);
      const c = { id: 1, status: 'succeeded', sequence: 't1', result_run_id: shown } as CaseDetail;
      return (
        <>
          <button type="button" onClick={() => setShown(8)}>
            poll
          </button>
          <RunsPanel c={c} canRerun onNotice={() => {}} />
        </>
      );
    }
    renderAt(<Page />);
    await waitFor(() => expect(listRuns).toHaveBeenCalled());
    const before = listRuns.mock.calls.length;
    await userEvent.click(screen.getByRole('button', { name: 'poll' }));
    await waitFor(() => expect(listRuns.mock.calls.length).toBeGreaterThan(before));
  });
});

describe('RunsPanel run numbers', () => {
  it('numbers the runs of the case 1, 2, … in the order they were requested; the job id only in the title', async () => {
    const queued = { ...finished, id: 12, status: 'queued', progress: 0, created_at: '2026-12-05T09:00:00Z' } as Job;
    vi.spyOn(api, 'models').mockResolvedValue(catalogue);
    vi.spyOn(api, 'listRuns').mockResolvedValue([queued, finished]);
    vi.spyOn(api, 'cancelJob').mockResolvedValue({ ...queued, status: 'cancelled' });
    const notices: string[] = [];
    renderAt(<RunsPanel c={{ id: 1, status: 'queued', sequence: 't1' } as CaseDetail} canRerun onNotice={(t) => notices.push(t)} />);
    const list = await screen.findByRole('list', { name: 'Run history' });
    const items = within(list).getAllByRole('listitem');
    expect(items.map((li) => li.querySelector('strong')?.textContent)).toEqual(['Run 2', 'Run 1']);
    expect(items.map((li) => li.getAttribute('data-run-id'))).toEqual(['12', '7']);
    expect(within(items[0]).getByText('Run 2')).toHaveAttribute('title', 'Job 12');
    expect(list).not.toHaveTextContent('Run 7');
    await userEvent.click(within(items[0]).getByRole('button', { name: 'Cancel run' }));
    await waitFor(() => expect(notices).toContain('Run 2 cancelled'));
  });

  it('says which run of the case a re-run is', async () => {
    vi.spyOn(api, 'rerun').mockResolvedValue({ ...finished, id: 31, status: 'queued', created_at: '2026-12-05T10:00:00Z' });
    vi.spyOn(api, 'models').mockResolvedValue(catalogue);
    vi.spyOn(api, 'listRuns').mockResolvedValue([finished]);
    const notices: string[] = [];
    renderAt(<RunsPanel c={{ id: 1, status: 'succeeded', sequence: 't1' } as CaseDetail} canRerun onNotice={(t) => notices.push(t)} />);
    expect(await screen.findByText('Run 1')).toBeInTheDocument();
    await userEvent.click(await screen.findByRole('button', { name: 'Re-run' }));
    await waitFor(() => expect(notices).toContain('Run 2 queued (fast)'));
  });
});

describe('RunsPanel, a case whose flags have verdicts', () => {
  const verdict = { verdict: 'accept', reason: null, comment: null, reviewer: 'alice', updated_at: '2026-12-05T09:00:00Z', version: 1 };

  function renderRead(c: CaseDetail) {
    vi.spyOn(api, 'models').mockResolvedValue(catalogue);
    vi.spyOn(api, 'listRuns').mockResolvedValue([{ ...finished, id: 1 }]);
    return renderAt(<RunsPanel c={c} canRerun onNotice={() => {}} />);
  }

  it('asks before a re-run leaves them with the shown run, and Cancel starts nothing', async () => {
    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue({ ...finished, id: 8, status: 'queued' });
    renderRead(caseDetail({ flags: [flagOf(51, 1, { verdict } as Partial<Flag>), flagOf(52, 2)] }));
    await userEvent.click(await screen.findByRole('button', { name: 'Re-run' }));
    const ask = screen.getByRole('group', { name: 'Re-run a case that has verdicts?' });
    expect(ask).toHaveTextContent("Run 1's flags have verdicts (yours on 1 flag).");
    expect(ask).toHaveTextContent('the new run\'s flags, to be read again');
    await userEvent.click(within(ask).getByRole('button', { name: 'Cancel' }));
    expect(rerun).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Re-run' }));
    await userEvent.click(screen.getByRole('button', { name: 'Re-run anyway' }));
    await waitFor(() => expect(rerun).toHaveBeenCalledTimes(1));
    expect(screen.queryByRole('group', { name: 'Re-run a case that has verdicts?' })).not.toBeInTheDocument();
  });

  it("counts other readers' verdicts, and a blind reader's knowledge that others read", () => {
    const others = caseDetail({ flags: [flagOf(51, 1, { other_verdicts: [verdict] } as Partial<Flag>)] });
    expect(readsOnShownRun(others)).toEqual({ own: 0, others: 'verdicts' });
    expect(readsOnShownRun(caseDetail({ other_verdicts_hidden: true, other_readers: 2 }))).toEqual({ own: 0, others: 'read' });
    expect(readsOnShownRun(caseDetail())).toBeNull();
    // a coordinator seeing only case verdicts of others: a re-run loses no flag verdict, so nothing is asked
    expect(readsOnShownRun(caseDetail({ other_readers: 1, other_case_verdicts: [] }))).toBeNull();
  });

  it("tells a blind reader only that others have read the case, not that they gave flag verdicts", async () => {
    vi.spyOn(api, 'rerun').mockResolvedValue({ ...finished, id: 8, status: 'queued' });
    renderRead(caseDetail({ other_verdicts_hidden: true, other_readers: 1 }));
    await userEvent.click(await screen.findByRole('button', { name: 'Re-run' }));
    expect(screen.getByRole('group', { name: 'Re-run a case that has verdicts?' })).toHaveTextContent(
      'Other readers have read this case (whether they gave verdicts on Run 1',
    );
  });

  it('re-runs an unread case at once', async () => {
    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue({ ...finished, id: 8, status: 'queued' });
    renderRead(caseDetail());
    await userEvent.click(await screen.findByRole('button', { name: 'Re-run' }));
    await waitFor(() => expect(rerun).toHaveBeenCalledTimes(1));
  });
});
