import { useCallback, useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import { canStep, findAcrossEdge, stepWithin, type Direction } from './caseNeighbours';
import { lastWorklist, rememberWorklist, WORKLIST_PAGE_SIZE, type WorklistPosition } from './worklistMemory';

export interface CaseNeighbours {
  hasPrev: boolean;
  hasNext: boolean;
  /** goes to the previous (-1) or next (1) case of the worklist; ignored while a step is being looked up */
  step: (delta: Direction) => void;
  /** a step past the page's edge is asking the server */
  busy: boolean;
  /** why the last step failed (the server could not be asked); null otherwise */
  error: string | null;
}

/**
 * Previous / next case for the case page, from the worklist page the reader opened the case from (see
 * `caseNeighbours.ts`). A case opened some other way (a link, the audit trail) is looked up once on the
 * remembered worklist page, or on the default worklist's first page; when it is not there it has no neighbours.
 * ``onNotice`` tells the reader when the worklist has no case that way any more.
 */
export function useCaseNeighbours(caseId: number, onNotice: (msg: string) => void): CaseNeighbours {
  const navigate = useNavigate();
  const [position, setPosition] = useState<WorklistPosition | null>(() => {
    const p = lastWorklist();
    return p && p.ids.includes(caseId) ? p : null;
  });
  const [busy, setBusy] = useState(false);
  const busyRef = useRef(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (position) return;
    const ctl = new AbortController();
    const stored = lastWorklist();
    const query = stored?.query ?? { page: 1, page_size: WORKLIST_PAGE_SIZE };
    api
      .listCases(query, ctl.signal)
      .then((list) => {
        const ids = list.items.map((x) => x.id);
        if (!ids.includes(caseId)) return;
        const found = { search: stored?.search ?? '', query, ids, total: list.total };
        rememberWorklist(found);
        setPosition(found);
      })
      .catch(() => {
        /* no neighbours: the buttons stay disabled, the case itself is unaffected */
      });
    return () => ctl.abort();
  }, [caseId, position]);

  const step = useCallback(
    (delta: Direction) => {
      if (!position || busyRef.current || !canStep(position, caseId, delta)) return;
      const near = stepWithin(position, caseId, delta);
      if (near != null) {
        navigate(`/cases/${near}`);
        return;
      }
      busyRef.current = true;
      setBusy(true);
      setError(null);
      const fetchPage = async (page: number) => {
        const list = await api.listCases({ ...position.query, page });
        return { ids: list.items.map((x) => x.id), total: list.total };
      };
      findAcrossEdge(position, delta, fetchPage)
        .then((found) => {
          if (!found) {
            onNotice(delta > 0 ? 'No next case in the worklist' : 'No previous case in the worklist');
            return;
          }
          rememberWorklist(found.position);
          navigate(`/cases/${found.id}`);
        })
        .catch((e: unknown) => setError(`Could not find the ${delta > 0 ? 'next' : 'previous'} case: ${errorMessage(e)}`))
        .finally(() => {
          busyRef.current = false;
          setBusy(false);
        });
    },
    [position, caseId, navigate, onNotice],
  );

  return { hasPrev: canStep(position, caseId, -1), hasNext: canStep(position, caseId, 1), step, busy, error };
}
