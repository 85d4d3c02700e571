import { useEffect, useRef } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { usePresence } from '../lib/presence';

/**
 * Polls stop while nobody is at the browser (`pollWhile`); when someone is back, everything shown is fetched again
 * (and the polls that still apply start again), so the page is current from the first look.
 */
export function PresenceRefresh() {
  const present = usePresence();
  const qc = useQueryClient();
  const wasAway = useRef(false);
  useEffect(() => {
    if (present && wasAway.current) void qc.invalidateQueries();
    wasAway.current = !present;
  }, [present, qc]);
  return null;
}
