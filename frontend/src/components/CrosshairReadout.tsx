import type { Readout } from './Viewer';
import { formatVec } from '../lib/format';

/** World and voxel position of the crosshair with the scan intensity and anomaly value there. */
export function CrosshairReadout({ readout }: { readout: Readout | null }) {
  return (
    <div className="readout" aria-label="Crosshair">
      {readout ? (
        <>
          <span>
            <span className="muted">mm</span> {formatVec(readout.mm)}
          </span>
          <span>
            <span className="muted">voxel</span> {formatVec(readout.vox, 0)}
          </span>
          <span>
            <span className="muted">intensity</span> {readout.scan == null ? '—' : readout.scan.toFixed(1)}
          </span>
          <span>
            <span className="muted">anomaly</span> {readout.anomaly == null ? '—' : readout.anomaly.toFixed(3)}
          </span>
        </>
      ) : (
        <span className="muted">Click the image to place the crosshair.</span>
      )}
    </div>
  );
}
