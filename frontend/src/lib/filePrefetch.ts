import { api } from '../api/client';
import type { FileKind } from '../api/types';

/**
 * Early downloads of a case's volumes, so the first view does not wait for JS chunks, the session
 * check and the case record in turn: started at boot on /cases/:id (the scan only, see `prefetchBootCase`) and
 * when a worklist link is hovered or focused; consumed once by the viewer. A failed prefetch is simply fetched again.
 */
const KEEP_MS = 30_000;
const cache = new Map<string, Promise<ArrayBuffer>>();

const key = (caseId: number, kind: FileKind) => `${caseId}/${kind}`;

async function quietFetch(caseId: number, kind: FileKind): Promise<ArrayBuffer> {
  // plain fetch: a 401 here must not redirect; the page's own requests handle that
  // ?prefetch: the audit trail records it as loaded ahead, not as a file the reader opened
  const res = await fetch(`/api/cases/${caseId}/files/${kind}?prefetch=true`, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(String(res.status));
  return res.arrayBuffer();
}

export function prefetchCaseFiles(
  caseId: number,
  kinds: FileKind[] = ['scan', 'anomaly_map', 'anomaly_mask'],
): void {
  if (!Number.isInteger(caseId) || caseId <= 0) return;
  for (const kind of kinds) {
    const k = key(caseId, kind);
    if (cache.has(k)) continue;
    const p = quietFetch(caseId, kind);
    p.catch(() => cache.delete(k));
    cache.set(k, p);
    setTimeout(() => {
      if (cache.get(k) === p) cache.delete(k);
    }, KEEP_MS);
  }
}

/** The prefetched bytes if there are any (else a normal API fetch). */
export function takeCaseFile(caseId: number, kind: FileKind, signal?: AbortSignal): Promise<ArrayBuffer> {
  const k = key(caseId, kind);
  const p = cache.get(k);
  if (p) {
    cache.delete(k);
    return p.catch(() => api.caseFile(caseId, kind, signal));
  }
  return api.caseFile(caseId, kind, signal);
}

/**
 * Opening /cases/:id directly: download the scan while the app boots. Only the scan, since nothing is known of the
 * case yet and every case has one; the anomaly map and mask exist only for a finished lesion search (not for a
 * checks-only result, nor a case whose analysis is queued, failed or cancelled), and the viewer asks for them as soon
 * as the case record says they are there. Returns the case id, or null off a case page.
 */
export function prefetchBootCase(pathname: string): number | null {
  const caseId = caseIdFromPath(pathname);
  if (caseId != null) prefetchCaseFiles(caseId, ['scan']);
  return caseId;
}

/** Case id of a /cases/:id path, else null. */
export function caseIdFromPath(pathname: string): number | null {
  const m = /^\/cases\/(\d+)\/?$/.exec(pathname);
  return m ? Number(m[1]) : null;
}
