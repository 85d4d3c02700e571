import { useCallback, useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { keys, useRuns } from '../api/queries';
import type { Job } from '../api/types';
import { isActive } from './format';

/** The largest run id listed, or -1 with none: job ids only grow, so a run requested after this has a larger one. */
export function newestRunId(runs: readonly Pick<Job, 'id'>[] | undefined): number {
  return (runs ?? []).reduce((m, j) => Math.max(m, j.id), -1);
}

/**
 * Whether the runs requested since `after` (the newest id known when a notice about them was given) are all listed
 * and none is queued or running any more. With no such run listed yet it is false: the list may not have caught up.
 */
export function runsSinceFinished(runs: readonly Pick<Job, 'id' | 'status'>[] | undefined, after: number): boolean {
  const since = (runs ?? []).filter((j) => j.id > after);
  return since.length > 0 && since.every((j) => !isActive(j.status));
}

interface Notice {
  text: string;
  /** for a notice about a run just requested: the newest run id known before it; null for any other notice */
  after: number | null;
  /** one more for every notice given: shown as its key (LiveNotice), a notice worded as the last is read out again */
  serial: number;
}

/**
 * The case page's one notice line. A notice from the Runs panel ("Run 2 queued (fast)") is about the run it has
 * just requested, so it goes once that run has finished (succeeded, failed or cancelled): left up, "queued" would
 * contradict the run history beside it. The run is told by its id, larger than any known before the request,
 * which holds however soon the run ends and whichever poll (the case's or the runs') sees it first.
 */
export function useCaseNotice(caseId: number) {
  const qc = useQueryClient();
  const runs = useRuns(caseId);
  const [notice, setState] = useState<Notice>({ text: '', after: null, serial: 0 });
  const setNotice = useCallback((text: string) => setState((n) => ({ text, after: null, serial: n.serial + 1 })), []);
  const setRunNotice = useCallback(
    (text: string) => {
      const after = newestRunId(qc.getQueryData<Job[]>(keys.runs(caseId)));
      setState((n) => ({ text, after, serial: n.serial + 1 }));
    },
    [qc, caseId],
  );
  const stale = notice.after !== null && runsSinceFinished(runs.data, notice.after);
  useEffect(() => {
    if (stale) setState((n) => ({ text: '', after: null, serial: n.serial }));
  }, [stale]);
  return { notice: stale ? '' : notice.text, serial: notice.serial, setNotice, setRunNotice };
}
