import { Link } from 'react-router-dom';
import type { CaseDetail } from '../api/types';
import { formatDateTime } from '../lib/format';
import { scanFacts } from '../lib/scanFacts';

/**
 * What the scan is, and the patient's other scans here: the acquisition facts a DICOM upload kept after
 * de-identification, and the cases its keyed pseudonym links (never a name or an ID). A NIfTI upload has neither.
 */
export function ScanPanel({ c }: { c: CaseDetail }) {
  const others = c.same_patient ?? [];
  return (
    <section className="panel" aria-labelledby="scan-title">
      <h2 id="scan-title">Scan</h2>
      <dl className="facts">
        {scanFacts(c).map(([term, value]) => (
          <div key={term} className="wide">
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <h3 className="subhead" id="same-patient-title">
        Other scans of this patient
      </h3>
      {c.source_format !== 'dicom' ? (
        <p className="muted small">A NIfTI upload carries no patient link, so none can be listed.</p>
      ) : others.length === 0 ? (
        <p className="muted small">None here.</p>
      ) : (
        <ul className="same-patient" aria-labelledby="same-patient-title">
          {others.map((s) => (
            <li key={s.id}>
              <Link to={`/cases/${s.id}`}>{s.label}</Link>{' '}
              <span className="muted small">
                {s.sequence.toUpperCase()} · {s.acquisition_date ? `acquired ${s.acquisition_date}` : `uploaded ${formatDateTime(s.uploaded_at)}`} ·{' '}
                {s.triage ?? s.status}
              </span>
            </li>
          ))}
          {(c.same_patient_more ?? 0) > 0 && (
            <li className="muted small">
              {c.same_patient_more} more not listed: only the {others.length} most recent are shown.
            </li>
          )}
        </ul>
      )}
    </section>
  );
}
