import { Fragment, useState } from 'react';
import type { ApiToken } from '../api/types';
import { formatDateTime } from '../lib/format';

interface Props {
  tokens: ApiToken[];
  /** Accessible name of the table, e.g. "Your API tokens". */
  label: string;
  onRevoke: (token: ApiToken) => void;
  revoking: boolean;
}

/**
 * API tokens with their state and a revoke button each; used on the account and the admin pages. Revoking asks
 * first, in a row under the token: it cannot be undone, and whatever uses the token stops working at once.
 */
export function TokenTable({ tokens, label, onRevoke, revoking }: Props) {
  const now = Date.now();
  const [asking, setAsking] = useState<number | null>(null);
  return (
    <table className="grid sub" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Prefix</th>
          <th scope="col">Created</th>
          <th scope="col">Last used</th>
          <th scope="col">Expires</th>
          <th scope="col">State</th>
          <th scope="col">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {tokens.map((t) => {
          const revocable = !t.revoked_at && Date.parse(t.expires_at) > now;
          return (
            <Fragment key={t.id}>
              <tr data-token-id={t.id}>
                <td>{t.name}</td>
                <td className="mono">{t.prefix}…</td>
                <td>{formatDateTime(t.created_at)}</td>
                <td>{formatDateTime(t.last_used_at)}</td>
                <td>{formatDateTime(t.expires_at)}</td>
                <td>{tokenState(t, now)}</td>
                <td>
                  {revocable && (
                    <button
                      type="button"
                      // two tokens may share a name: the prefix (shown beside it) tells their buttons apart
                      aria-label={`Revoke token ${t.name} (${t.prefix}…)`}
                      aria-expanded={asking === t.id}
                      onClick={() => setAsking((id) => (id === t.id ? null : t.id))}
                      disabled={revoking}
                    >
                      Revoke token {t.name}
                    </button>
                  )}
                </td>
              </tr>
              {revocable && asking === t.id && (
                <tr>
                  <td colSpan={7}>
                    <div className="inline-form" role="group" aria-label={`Revoke “${t.name}” (${t.prefix}…)?`}>
                      <span className="small">
                        Revoke “{t.name}”? Scripts using it stop working at once. This cannot be undone.
                      </span>
                      <button
                        type="button"
                        className="danger"
                        disabled={revoking}
                        onClick={() => {
                          setAsking(null);
                          onRevoke(t);
                        }}
                      >
                        Revoke “{t.name}” now
                      </button>
                      <button type="button" onClick={() => setAsking(null)}>
                        Cancel
                      </button>
                    </div>
                  </td>
                </tr>
              )}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}

/** "active", "revoked <when>", or "expired": an expired token is refused and needs no revoking. */
export function tokenState(t: ApiToken, now: number): string {
  if (t.revoked_at) return `revoked ${formatDateTime(t.revoked_at)}`;
  return Date.parse(t.expires_at) <= now ? 'expired' : 'active';
}
