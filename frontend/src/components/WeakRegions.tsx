import type { CaseDetail } from '../api/types';
import { formatMl, formatVec } from '../lib/format';

/**
 * Regions large enough to flag that the engine left out because their peak anomaly stayed far below the
 * strongest flag's. They are not findings to accept or reject, but the reader is told where they are.
 */
export function WeakRegions({ c, onGoto }: { c: CaseDetail; onGoto: (mm: number[]) => void }) {
  const regions = c.weak_regions ?? [];
  if (c.min_peak_ratio == null || regions.length === 0) return null;
  const percent = Math.round(c.min_peak_ratio * 100);
  return (
    <section className="panel" aria-labelledby="weak-title">
      <h2 id="weak-title">Weaker regions, not flagged</h2>
      <p className="muted small">
        Their peak anomaly stays under {percent} % of the strongest flag&apos;s. Most are normal tissue the model
        rebuilds less well; look at them in the anomaly map.
      </p>
      <ul className="findings" aria-labelledby="weak-title">
        {regions.map((r, i) => (
          <li key={i}>
            <button type="button" className="link-like" onClick={() => onGoto(r.anchor_mm ?? r.centroid_mm)} aria-label={`Go to weaker region ${i + 1}`}>
              Region {i + 1}
            </button>{' '}
            <span className="muted small">
              {formatMl(r.volume_ml)} mL at ({formatVec(r.centroid_mm)}) mm · peak {Math.floor(r.peak_ratio * 100 + 1e-9)} %
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
