import type { CaseDetail } from '../api/types';
import { formatDateTime } from './format';

type FactsSource = Pick<CaseDetail, 'source_format' | 'dicom_meta' | 'delete_after'>;

function joined(parts: (string | undefined)[], separator = ' '): string | null {
  const kept = parts.filter((p): p is string => !!p && p.trim() !== '');
  return kept.length ? kept.join(separator) : null;
}

/** A DICOM decimal string as a reader writes it: "2.26" stays, "2300.0" becomes "2300". */
function number(value: string | undefined): string | undefined {
  if (value == null) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? String(Math.round(n * 100) / 100) : value;
}

/**
 * The acquisition facts a DICOM upload kept after de-identification, as [term, value] pairs in reading order; only
 * what the series said. The date is the patient's shifted date when the site shifts dates, and says so. Last, when
 * the site deletes cases after a retention period, the day this one goes.
 */
export function scanFacts({ source_format, dicom_meta: m, delete_after }: FactsSource): [string, string][] {
  const facts: [string, string | null][] = [
    ['Uploaded as', source_format === 'dicom' ? 'DICOM series' : 'NIfTI file'],
    ['Acquired', m.acquisition_date ? `${m.acquisition_date}${m.acquisition_date_shifted === 'yes' ? ' (shifted per patient)' : ''}` : null],
    ['Scanner', joined([m.manufacturer, m.scanner_model, m.field_strength_t && `${number(m.field_strength_t)} T`])],
    ['Sequence', joined([m.sequence_name, m.scanning_sequence && `(${m.scanning_sequence})`, m.acquisition_type])],
    [
      'TE / TR',
      joined([m.echo_time_ms && `TE ${number(m.echo_time_ms)} ms`, m.repetition_time_ms && `TR ${number(m.repetition_time_ms)} ms`], ' · '),
    ],
    ['Retention ends', delete_after ? `${formatDateTime(delete_after)}; the case is then deleted` : null],
  ];
  return facts.filter((f): f is [string, string] => f[1] != null);
}
