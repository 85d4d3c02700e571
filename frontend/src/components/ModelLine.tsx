import type { CaseDetail } from '../api/types';

/** Which model analysed the case; warns when the worker ran without trained weights. A checks-only result names
 * the checks instead: no model ran, which is not the same as an untrained one. */
export function ModelLine({ c }: { c: CaseDetail }) {
  if (!c.model) {
    // no result yet: waiting for one, or none came (the run failed or was cancelled)
    const waiting = c.status === 'queued' || c.status === 'running';
    return <span className="muted">Model: {waiting ? 'pending' : 'no result'}</span>;
  }
  if (c.screening === 'checks') {
    return (
      <span className="model-line" title={`${c.model.name} ${c.model.version}`}>
        Model: <strong>none</strong> <span className="muted">(rescan checks only, v{c.model.version})</span>
      </span>
    );
  }
  return (
    <>
      <span className="model-line" title={`${c.model.name} ${c.model.version}`}>
        Model: <strong>{c.model.name}</strong> <span className="muted">v{c.model.version}</span>
      </span>
      {c.model.trained === false && (
        <span className="badge badge-warn" title="No checkpoint found: random weights were used">
          untrained model
        </span>
      )}
    </>
  );
}
