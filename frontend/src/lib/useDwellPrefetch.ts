import { useEffect, useMemo, useRef } from 'react';
import { prefetchCaseFiles } from './filePrefetch';

/** Prefetch a case's volumes (only the scan for a checks-only result, which has no maps) when its link is pointed at or focused for a moment (not on a fly-over). */
export function useDwellPrefetch() {
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return useMemo(
    () => ({
      start(caseId: number, scanOnly = false) {
        window.clearTimeout(timer.current);
        timer.current = window.setTimeout(() => prefetchCaseFiles(caseId, scanOnly ? ['scan'] : undefined), 250);
      },
      cancel() {
        window.clearTimeout(timer.current);
      },
    }),
    [],
  );
}
