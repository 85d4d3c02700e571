import type { CaseSummary, JobStatus, VerdictValue } from '../api/types';

export const ACTIVE_STATUSES: readonly JobStatus[] = ['queued', 'running'];

export function isActive(status: JobStatus | string | null | undefined): boolean {
  return status === 'queued' || status === 'running';
}

export function anyActive(cases: readonly Pick<CaseSummary, 'status'>[] | undefined): boolean {
  return !!cases && cases.some((c) => isActive(c.status));
}

export function clampPercent(p: number | null | undefined): number {
  if (p == null || !Number.isFinite(p)) return 0;
  return Math.max(0, Math.min(100, Math.round(p)));
}

/** "running 40% · threshold search", "queued", "succeeded", "failed". */
type Failure = NonNullable<CaseSummary['failure']>;

/** Why a run failed, in the few words a worklist row has room for (the case page has the full sentence). */
export const FAILURE_TEXT: Record<Failure, string> = {
  scan_refused: 'scan refused',
  sequence_mismatch: 'wrong sequence',
  no_model: 'no model',
  missing_scan: 'scan missing',
  time_limit: 'took too long',
  storage_full: 'storage full',
  internal: 'internal error',
  queue_unavailable: 'queue down',
  worker_stopped: 'worker stopped',
};

export function statusText(
  c: Pick<CaseSummary, 'status' | 'progress' | 'stage'> & Partial<Pick<CaseSummary, 'failure'>>,
): string {
  if (c.status === 'running') {
    const base = `running ${clampPercent(c.progress)}%`;
    return c.stage ? `${base} · ${c.stage}` : base;
  }
  // a coordinator sorting failures needs the reason on the row, not one click per case
  if (c.status === 'failed' && c.failure) return `failed · ${FAILURE_TEXT[c.failure]}`;
  return c.status;
}

/** True when some run of the case succeeded: its result (triage, flags, images) can be shown. */
export function hasResult(c: Pick<CaseSummary, 'result_run_id'>): boolean {
  return c.result_run_id != null;
}

const NEWEST_RUN_TEXT: Record<JobStatus, string> = {
  queued: 'is waiting for a worker',
  running: 'is running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'was cancelled',
};

/** When the result shown comes from an earlier run than the case's newest (a re-run pending, failed or
 * cancelled), a sentence that says so; otherwise null. */
export function earlierResultText(c: Pick<CaseSummary, 'status' | 'result_run_id'>): string | null {
  if (c.result_run_id == null || c.status === 'succeeded') return null;
  // no run number: the runs list numbers runs per case, the case record knows only the job id
  return `Showing the result of an earlier run: the newest run ${NEWEST_RUN_TEXT[c.status] ?? c.status}.`;
}

export function formatScore(score: number | null | undefined): string {
  if (score == null || !Number.isFinite(score)) return '—';
  return score.toFixed(4);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const dateFormatters = new Map<string, Intl.DateTimeFormat>();

function dateFormatter(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let f = dateFormatters.get(key);
  if (!f) {
    // en-GB only for the zone's short name (UTC, CET, BST, or an offset such as GMT-5); the layout is built below
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    dateFormatters.set(key, f);
  }
  return f;
}

/**
 * Every date-time the app shows: day, month name, year, 24-hour time and the time zone, e.g.
 * "5 Dec 2026, 10:58 CET" (an offset such as "GMT-5" where the zone has no common abbreviation).
 * The time is the browser's local time unless `timeZone` (an IANA name) is given.
 */
export function formatDateTime(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of dateFormatter(timeZone).formatToParts(d)) p[part.type] = part.value;
  const month = MONTHS[Number(p.month) - 1] ?? p.month;
  return `${Number(p.day)} ${month} ${p.year}, ${p.hour}:${p.minute} ${p.timeZoneName ?? ''}`.trimEnd();
}

export function formatMl(ml: number | null | undefined): string {
  if (ml == null || !Number.isFinite(ml)) return '—';
  return ml >= 10 ? ml.toFixed(1) : ml.toFixed(2);
}

/**
 * The smallest region the model flags, for a reader judging a clean result: "0.80 mL (a sphere 1.2 cm across)".
 * The sphere's diameter is what a reader can compare with a lesion on screen.
 */
export function smallestFlagText(ml: number | null | undefined): string {
  if (ml == null || !Number.isFinite(ml) || ml <= 0) return '—';
  const diameterCm = Math.cbrt((6 * ml) / Math.PI);
  return `${formatMl(ml)} mL (a sphere ${diameterCm.toFixed(1)} cm across)`;
}

export function formatVec(v: readonly number[] | null | undefined, digits = 1): string {
  if (!v || !v.length) return '—';
  return v.map((x) => (Number.isFinite(x) ? x.toFixed(digits) : '?')).join(', ');
}

export const VERDICT_TEXT: Record<VerdictValue, string> = {
  accept: 'Accepted',
  reject: 'Rejected',
  unsure: 'Unsure',
};

export function verdictText(v: VerdictValue | null | undefined): string {
  return v ? VERDICT_TEXT[v] : 'Not reviewed';
}

/**
 * The server's account of a deleted case ("Case 5 was deleted by a study coordinator.") with when, from its
 * `deleted_at`, given as every other time in the app (formatDateTime, the reader's zone): the server's sentence
 * carries no time of its own, since a reader comparing it with the worklist or audit trail would have to convert.
 */
export function withLocalDeletionTime(message: string, deletedAt: string): string {
  if (Number.isNaN(Date.parse(deletedAt))) return message;
  return `${message.replace(/\.$/, '')}, on ${formatDateTime(deletedAt)}.`;
}
