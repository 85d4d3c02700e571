import { useEffect, useRef } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useReturns } from '../lib/presence';

/**
 * Polls stop while nobody is at the browser (`pollWhile`); when someone is back, everything shown is fetched again
 * (and the polls that still apply start again), so the page is current from the first look.
 */
export function PresenceRefresh() {
  const returns = useReturns();
  const qc = useQueryClient();
  const seen = useRef(returns);
  useEffect(() => {
    if (returns === seen.current) return;
    seen.current = returns;
    void qc.invalidateQueries();
  }, [returns, qc]);
  return null;
}
