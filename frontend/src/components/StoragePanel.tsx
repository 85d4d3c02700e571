import { useStorageSpace } from '../api/queries';
import type { StorageSpace } from '../api/types';
import { QueryState } from './QueryState';

/** "38.2 GB": decimal units, as disks are sold and `df -H` shows them. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e12) return `${(bytes / 1e12).toFixed(1)} TB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  return `${Math.round(bytes / 1e6)} MB`;
}

/** What the storage holds and how much more fits, in the words an administrator plans with. */
export function storageSentence(s: StorageSpace): string {
  const disk = `${formatBytes(s.free_bytes)} free of ${formatBytes(s.total_bytes)}.`;
  if (s.cases === 0) return `${disk} No case is stored yet.`;
  const stored = `${s.cases.toLocaleString('en-GB')} ${s.cases === 1 ? 'case is' : 'cases are'} stored`;
  if (!s.case_bytes || s.room_for_cases == null) {
    return `${disk} ${stored}, but the newest hold no files: they may be missing (neurotriage check-storage lists them).`;
  }
  return (
    `${disk} ${stored}; the newest take ` +
    `${formatBytes(s.case_bytes)} each on average, so there is room for about ` +
    `${s.room_for_cases.toLocaleString('en-GB')} more.`
  );
}

export function retentionSentence(days: number | null | undefined): string {
  return days == null
    ? 'Cases are kept until a coordinator deletes them (no retention period is set).'
    : `Cases are deleted ${days} ${days === 1 ? 'day' : 'days'} after upload (NEUROTRIAGE_RETENTION_DAYS).`;
}

/** For admins: free space on the storage's disk, a warning before it is full, and the retention period. */
export function StoragePanel() {
  const storage = useStorageSpace();
  const data = storage.data;
  return (
    <section className="panel" aria-labelledby="storage-title">
      <h2 id="storage-title">Storage</h2>
      <QueryState query={storage} what="the storage figures" />
      {data && (
        <>
          {data.notice && (
            <div className="error-box" data-testid="storage-notice">
              {data.notice}
            </div>
          )}
          <p data-testid="storage-space">{storageSentence(data)}</p>
          <p className="muted small" data-testid="retention">
            {retentionSentence(data.retention_days)}
          </p>
        </>
      )}
    </section>
  );
}
