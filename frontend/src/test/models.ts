import type { ModelCatalogue, QueueStatus } from '../api/types';

/** A worker's report for tests: each [profile, sequence] pair given is available, the others are not; a sequence
 * no profile reads gets the rescan checks alone, as the server says. */
export function catalogueOf(available: [string, string][], profiles = ['fast', 'paper']): ModelCatalogue {
  const can = (p: string, s: string) => available.some(([ap, as]) => ap === p && as === s);
  return {
    checks_only_sequences: ['t1', 't2', 'flair'].filter((s) => !available.some(([, as]) => as === s)),
    default_profile: 'fast',
    reported_at: '2026-12-05T08:00:00Z',
    models: profiles.flatMap((profile) =>
      ['t1', 't2', 'flair'].map((sequence) => ({
        profile,
        sequence,
        available: can(profile, sequence),
        trained: can(profile, sequence),
        reason: can(profile, sequence) ? null : `no trained ${profile}-profile model for ${sequence.toUpperCase()} scans`,
      })),
    ),
  };
}

/** The queue as the service reports it: nothing waiting and one analysis worker running, unless told otherwise. */
export function queueOf(over: Partial<QueueStatus> = {}): QueueStatus {
  return {
    queued: 0,
    running: 0,
    oldest_queued_at: null,
    inference_workers_online: 1,
    delay_notice: null,
    workers: null,
    ...over,
  };
}
