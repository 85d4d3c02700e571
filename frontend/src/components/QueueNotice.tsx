import { useQueueStatus } from '../api/queries';

/**
 * Under the header on every page: uploads and re-runs wait in the queue while no analysis worker runs, and without
 * this a reader would only see "queued" that never changes. The service decides when (and in what words) to warn.
 */
export function QueueNotice({ enabled = true }: { enabled?: boolean }) {
  const notice = useQueueStatus(enabled).data?.delay_notice;
  // The live region stays in the page, empty while nothing is held up: screen readers announce text that appears
  // in a region they already know, and may miss a region added together with its text.
  return (
    <div role="status" className={notice ? 'queue-notice' : undefined}>
      {notice && (
        <span data-testid="queue-notice">
          <strong>Analysis is on hold.</strong> {notice}
        </span>
      )}
    </div>
  );
}
