import { useEffect, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import { keys } from '../api/queries';
import type { CaseDetail } from '../api/types';
import { loadDraft, saveDraftPart } from '../lib/caseDraft';
import { formatVec } from '../lib/format';
import type { Readout } from './Viewer';

interface Props {
  c: CaseDetail;
  canReview: boolean;
  /** the signed-in reader: the server deletes only one's own findings */
  user: string;
  crosshair: Readout | null;
  onGoto: (mm: readonly number[]) => void;
  /** filled with "mark at crosshair" so the page's M key can call it */
  markRef?: { current: (() => void) | null };
  onNotice?: (msg: string) => void;
}

export const PLACE_CROSSHAIR_FIRST = 'Click in the image to place the crosshair first.';

/**
 * Findings the model missed: placed at the crosshair, once the reader has put it on a point (see `Readout.placed`).
 * Until then the crosshair sits at the volume centre, where a finding would be a point nobody chose that other
 * readers later see: marking is refused (button, Enter in the comment, M) with the reason shown.
 */
export function FindingsPanel({ c, canReview, user, crosshair, onGoto, markRef, onNotice }: Props) {
  const qc = useQueryClient();
  // a comment typed before the session expired comes back from the tab's draft (lib/caseDraft)
  const [comment, setComment] = useState(() => (canReview ? (loadDraft(user, c.id).findingComment ?? '') : ''));
  useEffect(() => {
    if (canReview) saveDraftPart(user, c.id, { findingComment: comment.trim() ? comment : undefined });
  }, [canReview, user, c.id, comment]);
  const [err, setErr] = useState<string | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: keys.case(c.id) });
  const placed = !!crosshair?.placed;

  const add = useMutation({
    mutationFn: () => {
      if (!crosshair?.placed) throw new Error(PLACE_CROSSHAIR_FIRST);
      const [x, y, z] = crosshair.mm;
      const vox = crosshair.vox.length === 3 ? (crosshair.vox.map((v) => Math.round(v)) as [number, number, number]) : null;
      return api.addFinding(c.id, { point_mm: [x, y, z], point_voxel: vox, radius_mm: 0, comment: comment.trim() || null });
    },
    onSuccess: () => {
      setComment('');
      setErr(null);
      onNotice?.('Finding marked');
      void refresh();
    },
    onError: (e) => setErr(errorMessage(e)),
  });
  const mark = () => {
    if (!placed) {
      // M or Enter before a point was chosen: say why nothing happened, mark nothing
      onNotice?.(PLACE_CROSSHAIR_FIRST);
      return;
    }
    if (!add.isPending) add.mutate();
  };
  if (markRef) markRef.current = canReview ? mark : null;
  const remove = useMutation({
    mutationFn: (id: number) => api.deleteFinding(id),
    onSuccess: () => void refresh(),
    onError: (e) => setErr(errorMessage(e)),
  });

  return (
    <section className="panel" aria-labelledby="findings-title">
      <h2 id="findings-title">Missed findings</h2>
      {c.findings.length > 0 ? (
        <ul className="findings" aria-labelledby="findings-title">
          {c.findings.map((f, i) => (
            <li key={f.id}>
              <button type="button" className="link-like" onClick={() => onGoto(f.point_mm)} aria-label={`Go to finding ${i + 1}`}>
                Finding {i + 1}
              </button>{' '}
              <span className="muted small">
                ({formatVec(f.point_mm)}) mm · {f.reviewer}
                {f.comment ? ` · ${f.comment}` : ''}
              </span>
              {canReview && f.reviewer === user && (
                <button
                  type="button"
                  className="small-btn"
                  aria-label={`Delete finding ${i + 1}`}
                  onClick={() => remove.mutate(f.id)}
                  disabled={remove.isPending}
                >
                  Delete
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">None marked.</p>
      )}
      {canReview && (
        <form
          className="finding-form"
          onSubmit={(e) => {
            e.preventDefault();
            mark();
          }}
        >
          <label className="field">
            <span>Finding comment</span>
            <input type="text" value={comment} maxLength={4000} onChange={(e) => setComment(e.target.value)} placeholder="optional" />
          </label>
          <button
            type="submit"
            disabled={!placed || add.isPending}
            aria-describedby={placed ? undefined : 'finding-place-first'}
            title="Marks the point under the crosshair (M)"
          >
            Mark finding at crosshair
          </button>
          {!placed && (
            <p id="finding-place-first" className="muted small">
              {PLACE_CROSSHAIR_FIRST}
            </p>
          )}
        </form>
      )}
      {err && (
        <div className="error-box" role="alert">
          {err}
        </div>
      )}
    </section>
  );
}
