import type { CaseDetail, LesionValidation, ModelValidation } from '../api/types';

const KIND_NAMES: Record<string, string> = { tumour: 'Tumour', cavity: 'Cavity', small: 'Small lesions' };

function lesionName(row: LesionValidation): string {
  const kind = KIND_NAMES[row.kind] ?? row.kind;
  return row.diameter_mm == null ? kind : `${kind}, ${(row.diameter_mm / 10).toFixed(1)} cm`;
}

/** Lesions of 1 cm across and more (tumours and cavities; sets of small lesions are counted apart). */
function sum(rows: LesionValidation[]): { found: number; total: number } {
  return rows.reduce((acc, r) => ({ found: acc.found + r.found, total: acc.total + r.total }), { found: 0, total: 0 });
}

export function missedText(v: ModelValidation): string | null {
  const large = sum(v.lesions.filter((r) => r.diameter_mm != null && r.diameter_mm >= 10));
  const small = sum(v.lesions.filter((r) => r.diameter_mm == null));
  const parts: string[] = [];
  if (large.total > large.found) parts.push(`${large.total - large.found} of ${large.total} lesions of 1 cm or more`);
  if (small.total > small.found) parts.push(`${small.total - small.found} of ${small.total} small lesions`);
  return parts.length ? parts.join(' and ') : null;
}

/**
 * What the model that analysed this case found when it was benchmarked, so that the reader knows what a scan
 * without flags is worth: a model that missed most lesions in testing says little by flagging nothing.
 */
export function ModelValidationPanel({ c }: { c: CaseDetail }) {
  const v = c.model_validation;
  if (!v) {
    return (
      <section className="panel" aria-labelledby="validation-title">
        <h2 id="validation-title">What this model found in testing</h2>
        <p className="muted small">
          No test figures were recorded for this model with the settings it ran with, so how often it misses a lesion
          is not known. Read the scan as if it had not been analysed.
        </p>
      </section>
    );
  }
  const missed = missedText(v);
  return (
    <section className="panel" aria-labelledby="validation-title">
      <h2 id="validation-title">What this model found in testing</h2>
      {missed && c.flags.length === 0 && (
        <p className="info-box validation-warning" role="note">
          No flag does not rule out a lesion: in testing, this model missed {missed}.
        </p>
      )}
      <p className="muted small">
        {v.cases} {v.data} {c.sequence.toUpperCase()} scans made by the engine&apos;s generator, not patients (benchmark
        seed{v.seeds.length === 1 ? '' : 's'} {v.seeds.join(', ')}; recorded {v.recorded}).
      </p>
      <table className="grid sub" aria-label="Lesions found in testing">
        <thead>
          <tr>
            <th scope="col">Lesion</th>
            <th scope="col" className="num">
              Found
            </th>
            <th scope="col" className="num" title="Median Dice overlap of the flagged region with the lesion, per scan">
              Dice
            </th>
          </tr>
        </thead>
        <tbody>
          {v.lesions.map((row) => (
            <tr key={`${row.kind}-${row.diameter_mm ?? 'set'}`}>
              <th scope="row">{lesionName(row)}</th>
              <td className="num">
                {row.found} of {row.total}
              </td>
              <td className="num">{row.median_dice.toFixed(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small">
        Normal scans flagged: {v.normals.flagged} of {v.normals.scans}. Scans with artefacts sent for a rescan:{' '}
        {v.artefacts.rescan} of {v.artefacts.scans}.
      </p>
    </section>
  );
}
