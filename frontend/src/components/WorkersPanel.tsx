import { QUEUE_POLL_MS, pollWhile, useQueueStatus } from '../api/queries';
import { formatDateTime } from '../lib/format';
import { QueryState } from './QueryState';
import type { WorkerStatus } from '../api/types';

/** A clean shutdown is told apart from silence: a worker that stopped beating without saying so may have crashed. */
export function workerState(w: WorkerStatus): string {
  if (w.online) return 'running';
  if (w.stopped_at) return `stopped ${formatDateTime(w.stopped_at)}`;
  return 'not responding (stopped without shutting down: check its host)';
}

/** For admins: the workers by their heartbeats, and the runs waiting for them. */
export function WorkersPanel() {
  // kept current while an admin watches, even with nothing queued (the other pages ask only while runs wait)
  const queue = useQueueStatus(true, () => pollWhile(true, QUEUE_POLL_MS));
  const data = queue.data;
  const workers = data?.workers ?? [];
  return (
    <section className="panel" aria-labelledby="workers-title">
      <h2 id="workers-title">Workers</h2>
      <QueryState query={queue} what="the workers" />
      {data && (
        <>
          <p className="muted small" data-testid="queue-counts">
            {data.running} running, {data.queued} queued
            {data.oldest_queued_at && <> (the oldest since {formatDateTime(data.oldest_queued_at)})</>}.
          </p>
          {data.inference_workers_online === 0 && (
            <div className="error-box" data-testid="no-inference-worker">
              No analysis worker is running, so uploads and re-runs wait in the queue. Start one (the{' '}
              <code>worker</code> service of the Docker stack, or <code>neurotriage worker --queues gpu,default</code>).
            </div>
          )}
          {workers.length === 0 ? (
            <p className="muted">No worker has reported a heartbeat in the last day.</p>
          ) : (
            <table className="grid" aria-label="Workers">
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">Takes</th>
                  <th scope="col">State</th>
                  <th scope="col">Started</th>
                  <th scope="col">Last heartbeat</th>
                </tr>
              </thead>
              <tbody>
                {workers.map((w) => (
                  <tr key={w.name}>
                    <th scope="row">{w.name}</th>
                    <td>{w.queues.map((q) => (q === 'gpu' ? 'analyses' : q === 'default' ? 'housekeeping' : q)).join(', ')}</td>
                    <td>{workerState(w)}</td>
                    <td>{formatDateTime(w.started_at)}</td>
                    <td>{formatDateTime(w.last_seen_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
