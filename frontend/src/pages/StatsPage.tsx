import { useEffect, useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { pollWhile } from '../api/queries';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import type { Stats } from '../api/types';
import { BarChart, type Series } from '../components/BarChart';
import { caseVerdictText } from '../components/CaseVerdictPanel';
import { ApiDownloadLink } from '../components/ApiDownloadLink';

const COLORS = { accept: '#3fbf7f', reject: '#ef5b5b', unsure: '#f2b33d', neutral: '#3fa9f5' };

export function formatDuration(s: number | null | undefined): string {
  if (s == null || !Number.isFinite(s)) return '—';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** The API gives agreement as a percentage already (0–100), not a fraction. */
function pct(x: number | null | undefined): string {
  return x == null ? '—' : `${x.toFixed(0)}%`;
}

function kappa(x: number | null | undefined): string {
  return x == null ? '—' : x.toFixed(2);
}

type AgreementSummary = Stats['agreement']['case_verdicts'];

/**
 * The fewest items read by two readers for which agreement and κ are shown. Below it a single verdict moves the
 * percentage by more than 10 points and κ's 95% interval is wider than ±0.5 (about ±0.7 on 5 cases), so the
 * figure would look like a finding while saying nothing about the readers. Ten is a floor below which the
 * figure is noise, not a promise of precision above it: the note under the figures gives the counts.
 */
export const MIN_DOUBLE_READ = 10;

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** Percentage and κ for one kind of verdict, or why there is no figure yet. */
function AgreementKpi({ a, item }: { a: AgreementSummary; item: 'case' | 'flag' }) {
  const n = a.items_with_multiple_readers;
  if (n < MIN_DOUBLE_READ) {
    // no big number: the count in the figure's place ("0") would read as the agreement itself
    return (
      <div className="kpi kpi-too-few" data-testid={`${item}-agreement`}>
        <div className="v" aria-hidden="true">
          —
        </div>
        <div className="l">
          too few {item}s read by two readers for agreement: {n} of {MIN_DOUBLE_READ} needed
        </div>
      </div>
    );
  }
  return (
    <div className="kpi" data-testid={`${item}-agreement`}>
      <div className="v">{pct(a.percent_agreement)}</div>
      <div className="l">
        {item} agreement (<span className="as-written">κ</span> {kappa(a.cohen_kappa)})
      </div>
    </div>
  );
}

function flagSeries(rows: { accept: number; reject: number; unsure: number }[]): Series[] {
  return [
    { label: 'Accepted', data: rows.map((r) => r.accept), color: COLORS.accept },
    { label: 'Rejected', data: rows.map((r) => r.reject), color: COLORS.reject },
    { label: 'Unsure', data: rows.map((r) => r.unsure), color: COLORS.unsure },
  ];
}

/** The first reads agreement leaves out (given with another reader's verdict in view), or nothing when none. */
export function notIndependentText(flags: number, cases: number): string {
  if (flags + cases === 0) return '';
  return (
    `Left out: ${plural(flags, 'flag verdict')} and ${plural(cases, 'case verdict')} first given with another ` +
    "reader's in view (by a reader who also coordinates, or after the reader's own case verdict). "
  );
}

export default function StatsPage() {
  const stats = useQuery({
    queryKey: ['stats'],
    queryFn: ({ signal }) => api.stats(signal),
    refetchInterval: () => pollWhile(true, 60_000),
  });
  const [exportError, setExportError] = useState<unknown>(null);
  useEffect(() => {
    document.title = 'Statistics · NeuroTriage';
  }, []);

  return (
    <main className="page" aria-labelledby="stats-title">
      <div className="page-title-row">
        <h1 id="stats-title">Statistics</h1>
        <div className="button-row">
          <ApiDownloadLink href="/api/export.csv" fallbackName="neurotriage-export.csv" onError={setExportError}>
            Export cases CSV
          </ApiDownloadLink>
          <ApiDownloadLink href="/api/export.json" fallbackName="neurotriage-export.json" onError={setExportError}>
            Export cases JSON
          </ApiDownloadLink>
        </div>
      </div>
      {exportError != null && (
        <div className="error-box" role="alert">
          Export failed: {errorMessage(exportError)}
        </div>
      )}
      {stats.isPending && <p className="muted">Loading…</p>}
      {stats.isError && (
        <div className="error-box" role="alert">
          Could not load statistics: {errorMessage(stats.error)}
        </div>
      )}
      {stats.data && <StatsView s={stats.data} />}
    </main>
  );
}

function StatsView({ s }: { s: Stats }) {
  const byModel = useMemo(() => flagSeries(s.flags_by_model), [s]);
  const byReviewer = useMemo(() => flagSeries(s.flags_by_reviewer), [s]);
  const verdictKeys = Object.keys(s.case_verdicts) as (keyof Stats['case_verdicts'])[];
  const verdictSeries = useMemo<Series[]>(
    () => [{ label: 'Cases', data: verdictKeys.map((k) => s.case_verdicts[k]), color: COLORS.neutral }],
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [s],
  );
  const modelLabels = useMemo(() => s.flags_by_model.map((m) => m.model), [s]);
  const reviewerLabels = useMemo(() => s.flags_by_reviewer.map((r) => r.reviewer), [s]);
  const verdictLabels = useMemo(() => verdictKeys.map((k) => caseVerdictText(k)), [s]); // eslint-disable-line react-hooks/exhaustive-deps
  const t = s.turnaround;
  const a = s.agreement;

  return (
    <>
      <section className="panel" aria-label="Key figures">
        <div className="kpis">
          <div className="kpi">
            <div className="v">{s.cases}</div>
            <div className="l">cases</div>
          </div>
          <div className="kpi">
            <div className="v">{formatDuration(t.queue_to_result.median_s)}</div>
            <div className="l">median queue → result</div>
          </div>
          <div className="kpi">
            <div className="v">{formatDuration(t.queue_to_result.p90_s)}</div>
            <div className="l">p90 queue → result</div>
          </div>
          <div className="kpi">
            <div className="v">{formatDuration(t.upload_to_first_verdict.median_s)}</div>
            <div className="l">median upload → first verdict</div>
          </div>
          <AgreementKpi a={a.flag_verdicts} item="flag" />
          <AgreementKpi a={a.case_verdicts} item="case" />
        </div>
        <p className="muted small" data-testid="agreement-note">
          Agreement over {plural(a.flag_verdicts.items_with_multiple_readers, 'flag')} and{' '}
          {plural(a.case_verdicts.items_with_multiple_readers, 'case')} read by more than one reviewer, on independent first
          reads: each reader&apos;s verdict as first saved, while no other reader&apos;s was in view. Revised since:{' '}
          {plural(a.flag_verdicts.revised, 'flag verdict')} and {plural(a.case_verdicts.revised, 'case verdict')}.{' '}
          {notIndependentText(a.flag_verdicts.not_independent, a.case_verdicts.not_independent)}A figure is given from{' '}
          {MIN_DOUBLE_READ} of each: on fewer, a single verdict moves it too far to mean anything.
        </p>
      </section>
      <div className="charts">
        <BarChart title="Flag verdicts per model version" labels={modelLabels} series={byModel} stacked />
        <BarChart title="Case verdicts" labels={verdictLabels} series={verdictSeries} />
        <BarChart title="Flag verdicts per reviewer" labels={reviewerLabels} series={byReviewer} stacked horizontal />
      </div>
    </>
  );
}
