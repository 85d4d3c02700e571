import { useQueueStatus } from '../api/queries';

/**
 * Under the header on every page: uploads and re-runs wait in the queue while no analysis worker runs, and without
 * this a reader would only see "queued" that never changes. The service decides when (and in what words) to warn.
 */
export function QueueNotice({ enabled = true }: { enabled?: boolean }) {
  const notice = useQueueStatus(enabled).data?.delay_notice;
  if (!notice) return null;
  return (
    <div className="queue-notice" role="status" data-testid="queue-notice">
      <strong>Analysis is on hold.</strong> {notice}
    </div>
  );
}
