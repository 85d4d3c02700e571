import { QueryClient, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type ListCasesParams } from './client';
import { ApiError } from './errors';
import type { CaseDetail, CaseList, FlagVerdict, Job, QueueStatus, VerdictValue } from './types';
import { anyActive, isActive } from '../lib/format';
import { userPresent } from '../lib/presence';

export const POLL_MS = 2000;

export const keys = {
  me: ['me'] as const,
  cases: (p: ListCasesParams = {}) => ['cases', p] as const,
  allCases: ['cases'] as const,
  case: (id: number) => ['case', id] as const,
  runs: (id: number) => ['case', id, 'runs'] as const,
  myTokens: ['me', 'tokens'] as const,
  models: ['models'] as const,
  queue: ['queue'] as const,
  storage: ['storage'] as const,
};

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // never retry auth/permission/not-found answers; retry transient failures twice
        retry: (count, err) =>
          !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
        // not for an unattended page: every request keeps the browser session from lapsing (lib/presence)
        refetchOnWindowFocus: () => userPresent(),
        refetchOnReconnect: () => userPresent(),
        staleTime: 1000,
      },
      mutations: { retry: false },
    },
  });
}

export function useMe() {
  return useQuery({
    queryKey: keys.me,
    queryFn: ({ signal }) => api.me(signal),
    staleTime: 60_000,
  });
}

/** What the workers can run (profiles per sequence); changes only when a worker restarts. */
export function useModels() {
  return useQuery({
    queryKey: keys.models,
    queryFn: ({ signal }) => api.models(signal),
    staleTime: 60_000,
  });
}

/** For admins: the storage's free space and the retention period; read when the admin page opens. */
export function useStorageSpace() {
  return useQuery({
    queryKey: keys.storage,
    queryFn: ({ signal }) => api.storage(signal),
  });
}

// A worker's heartbeat is every 30 s and it counts as gone after three missed: polling faster would show nothing new.
export const QUEUE_POLL_MS = 30_000;

/**
 * The runs waiting and running, and whether an analysis worker is there to run them (every signed-in user). Polled
 * only while runs wait: every request keeps the browser session from lapsing as idle, and a page left open on an
 * empty queue must not. An upload or re-run refreshes it (``keys.queue``), as does returning to the window.
 */
export function useQueueStatus(enabled = true, interval?: () => number | false) {
  return useQuery({
    queryKey: keys.queue,
    queryFn: ({ signal }) => api.queue(signal),
    enabled,
    refetchInterval: interval ?? ((q) => queuePollMs(q.state.data as QueueStatus | undefined)),
  });
}

/** How often to ask again: every QUEUE_POLL_MS while runs wait, else not at all. */
export function queuePollMs(status: Pick<QueueStatus, 'queued'> | undefined): number | false {
  return pollWhile((status?.queued ?? 0) > 0, QUEUE_POLL_MS);
}

/**
 * Every poll's interval: `ms` while `needed` and someone is at the browser, else none. Nobody there, the polls stop
 * (each request keeps the browser session from lapsing as idle); `PresenceRefresh` fetches again on return.
 */
export function pollWhile(needed: boolean, ms: number): number | false {
  return needed && userPresent() ? ms : false;
}

// The worklist with nothing under way still changes: colleagues upload (an urgent scan must reach a reader who sits
// on the list), read and delete cases.
export const WORKLIST_POLL_MS = 30_000;

/** How often the worklist asks again: every POLL_MS while a listed run moves, else every WORKLIST_POLL_MS. */
export function worklistPollMs(list: Pick<CaseList, 'items'> | undefined): number | false {
  return pollWhile(true, anyActive(list?.items) ? POLL_MS : WORKLIST_POLL_MS);
}

export function useCases(params: ListCasesParams) {
  return useQuery({
    queryKey: keys.cases(params),
    queryFn: ({ signal }) => api.listCases(params, signal),
    placeholderData: (prev) => prev,
    refetchInterval: (q) => worklistPollMs(q.state.data as CaseList | undefined),
  });
}

export function useCase(id: number) {
  return useQuery({
    queryKey: keys.case(id),
    queryFn: ({ signal }) => api.getCase(id, signal),
    enabled: Number.isFinite(id) && id > 0,
    refetchInterval: (q) => pollWhile(isActive((q.state.data as CaseDetail | undefined)?.status), POLL_MS),
  });
}

export interface VerdictVars {
  caseId: number;
  flagId: number;
  verdict: VerdictValue;
  reason?: string | null;
  comment?: string | null;
  /** version of the verdict the user last saw; 0 when there was none */
  version?: number | null;
}

/** Writes a saved verdict into the cached case so the list shows it without a refetch. */
export function withVerdict(c: CaseDetail, flagId: number, v: FlagVerdict): CaseDetail {
  return { ...c, flags: c.flags.map((f) => (f.id === flagId ? { ...f, verdict: v } : f)) };
}

export function useSaveVerdict() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: VerdictVars) =>
      api.putVerdict(v.flagId, {
        verdict: v.verdict,
        reason: v.reason ?? null,
        comment: v.comment ?? null,
        version: v.version ?? 0,
      }),
    onSuccess: (saved, v) => {
      qc.setQueryData<CaseDetail>(keys.case(v.caseId), (old) => (old ? withVerdict(old, v.flagId, saved) : old));
      void qc.invalidateQueries({ queryKey: keys.allCases });
    },
    onError: (err, v) => {
      // someone else changed it: reload the case so the user sees the current state
      if (err instanceof ApiError && err.isConflict) void qc.invalidateQueries({ queryKey: keys.case(v.caseId) });
    },
  });
}

/** Run history of a case, newest first; polled while a run is queued or running. */
export function useRuns(caseId: number, enabled = true) {
  return useQuery({
    queryKey: keys.runs(caseId),
    queryFn: ({ signal }) => api.listRuns(caseId, signal),
    enabled: enabled && Number.isFinite(caseId) && caseId > 0,
    refetchInterval: (q) => pollWhile(!!(q.state.data as Job[] | undefined)?.some((j) => isActive(j.status)), POLL_MS),
  });
}
