import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import type { CaseDetail, Job } from '../api/types';
import { catalogueOf } from '../test/models';
import { RunsPanel } from './RunsPanel';

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
    await waitFor(() => expect(rerun).toHaveBeenCalledWith(1, 'fast'));
  });

  it('re-runs a scan whose sequence no profile reads with the rescan checks alone, and says so', async () => {
    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue({ ...finished, id: 8, status: 'queued', screening: 'checks' });
    renderPanel('t2');
    expect(await screen.findByRole('option', { name: 'fast (rescan checks only)' })).toBeEnabled();
    await userEvent.click(screen.getByRole('button', { name: 'Re-run' }));
    await waitFor(() => expect(rerun).toHaveBeenCalledWith(1, 'fast'));
  });
});
