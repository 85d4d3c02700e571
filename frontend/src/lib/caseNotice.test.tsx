import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import { keys } from '../api/queries';
import type { Job, JobStatus } from '../api/types';
import { newestRunId, runsSinceFinished, useCaseNotice } from './caseNotice';

const run = (id: number, status: JobStatus) => ({ id, status });

afterEach(() => vi.restoreAllMocks());

describe('newestRunId', () => {
  it('is the largest id listed, or -1 with none', () => {
    expect(newestRunId([run(7, 'succeeded'), run(9, 'failed'), run(8, 'cancelled')])).toBe(9);
    expect(newestRunId([])).toBe(-1);
    expect(newestRunId(undefined)).toBe(-1);
  });
});

describe('runsSinceFinished', () => {
  it('is true once every run newer than the mark has ended, whichever way', () => {
    for (const end of ['succeeded', 'failed', 'cancelled'] as const) {
      expect(runsSinceFinished([run(8, end), run(7, 'succeeded')], 7)).toBe(true);
    }
  });

  it('is false while a newer run is queued or running, or before the list shows one', () => {
    expect(runsSinceFinished([run(8, 'queued'), run(7, 'succeeded')], 7)).toBe(false);
    expect(runsSinceFinished([run(8, 'running'), run(7, 'succeeded')], 7)).toBe(false);
    // the list from before the request: the new run is not in it yet
    expect(runsSinceFinished([run(7, 'succeeded')], 7)).toBe(false);
    expect(runsSinceFinished(undefined, 7)).toBe(false);
  });

  it('reads a list that was not known at the request (mark -1) as a whole', () => {
    expect(runsSinceFinished([run(8, 'succeeded'), run(7, 'succeeded')], -1)).toBe(true);
    expect(runsSinceFinished([run(8, 'queued'), run(7, 'succeeded')], -1)).toBe(false);
  });
});

const job = (id: number, status: JobStatus) => ({ id, status }) as Job;

function Harness() {
  const { notice, setNotice, setRunNotice } = useCaseNotice(5);
  return (
    <div>
      <p role="status">{notice}</p>
      <button type="button" onClick={() => setRunNotice('Run 2 queued (fast)')}>
        Run notice
      </button>
      <button type="button" onClick={() => setNotice('Case verdict saved')}>
        Other notice
      </button>
    </div>
  );
}

describe('useCaseNotice', () => {
  it('drops a run notice once its run has finished, and leaves any later notice alone', async () => {
    const list = vi.spyOn(api, 'listRuns').mockResolvedValue([job(7, 'succeeded')]);
    const { qc } = renderAt(<Harness />);
    await waitFor(() => expect(list).toHaveBeenCalled());
    await waitFor(() => expect(qc.getQueryData(keys.runs(5))).toHaveLength(1));

    await userEvent.click(screen.getByRole('button', { name: 'Run notice' }));
    expect(screen.getByRole('status')).toHaveTextContent('Run 2 queued (fast)');
    list.mockResolvedValue([job(8, 'running'), job(7, 'succeeded')]);
    await act(() => qc.invalidateQueries({ queryKey: keys.runs(5) }));
    expect(screen.getByRole('status')).toHaveTextContent('Run 2 queued (fast)');
    list.mockResolvedValue([job(8, 'failed'), job(7, 'succeeded')]);
    await act(() => qc.invalidateQueries({ queryKey: keys.runs(5) }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent(/^$/));

    // another notice given while a run is pending is not about that run: it stays when the run ends
    await userEvent.click(screen.getByRole('button', { name: 'Run notice' }));
    list.mockResolvedValue([job(9, 'queued'), job(8, 'failed'), job(7, 'succeeded')]);
    await act(() => qc.invalidateQueries({ queryKey: keys.runs(5) }));
    await userEvent.click(screen.getByRole('button', { name: 'Other notice' }));
    list.mockResolvedValue([job(9, 'succeeded'), job(8, 'failed'), job(7, 'succeeded')]);
    await act(() => qc.invalidateQueries({ queryKey: keys.runs(5) }));
    expect(screen.getByRole('status')).toHaveTextContent('Case verdict saved');
  });
});
