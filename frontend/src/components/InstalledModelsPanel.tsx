import { useModels } from '../api/queries';
import { formatDateTime } from '../lib/format';
import { SEQUENCES } from '../lib/modelChoices';
import { QueryState } from './QueryState';

/** For admins: which profile can analyse which sequence, as the last inference worker to start reported it. */
export function InstalledModelsPanel() {
  const models = useModels();
  const data = models.data;
  const profiles = [...new Set(data?.models.map((m) => m.profile) ?? [])];
  return (
    <section className="panel" aria-labelledby="models-title">
      <h2 id="models-title">Models on the workers</h2>
      <QueryState query={models} what="the models" />
      {data && !data.reported_at && (
        <p className="muted">
          No inference worker has reported yet: every profile is offered, and a worker refuses what it cannot run.
        </p>
      )}
      {data?.reported_at && (
        <>
          <p className="muted small">
            Reported {formatDateTime(data.reported_at)} by the last worker to start. Uploads are analysed with the{' '}
            <strong>{data.default_profile}</strong> profile.
          </p>
          <table className="grid" aria-label="Installed models">
            <thead>
              <tr>
                <th scope="col">Profile</th>
                {SEQUENCES.map((s) => (
                  <th key={s} scope="col">
                    {s.toUpperCase()}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {profiles.map((p) => (
                <tr key={p}>
                  <th scope="row">{p}</th>
                  {SEQUENCES.map((s) => {
                    const m = data.models.find((x) => x.profile === p && x.sequence === s);
                    const text = !m?.available ? 'not installed' : m.trained ? 'installed' : 'untrained (tests only)';
                    return (
                      <td key={s} title={m?.reason ?? undefined}>
                        {text}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
          {data.checks_only_sequences.length > 0 && (
            <p className="muted small" data-testid="checks-only-sequences">
              {data.checks_only_sequences.map((s) => s.toUpperCase()).join(', ')} scans get the rescan checks alone: no
              profile has a model for them, so they are not screened for lesions.
            </p>
          )}
        </>
      )}
    </section>
  );
}
