import type { ApiToken } from '../api/types';
import { formatDateTime } from '../lib/format';

interface Props {
  tokens: ApiToken[];
  /** Accessible name of the table, e.g. "Your API tokens". */
  label: string;
  onRevoke: (token: ApiToken) => void;
  revoking: boolean;
}

/** API tokens with their state and a revoke button each; used on the account and the admin pages. */
export function TokenTable({ tokens, label, onRevoke, revoking }: Props) {
  const now = Date.now();
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
        {tokens.map((t) => (
          <tr key={t.id} data-token-id={t.id}>
            <td>{t.name}</td>
            <td className="mono">{t.prefix}…</td>
            <td>{formatDateTime(t.created_at)}</td>
            <td>{formatDateTime(t.last_used_at)}</td>
            <td>{formatDateTime(t.expires_at)}</td>
            <td>{tokenState(t, now)}</td>
            <td>
              {!t.revoked_at && Date.parse(t.expires_at) > now && (
                <button type="button" onClick={() => onRevoke(t)} disabled={revoking}>
                  Revoke token {t.name}
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** "active", "revoked <when>", or "expired": an expired token is refused and needs no revoking. */
export function tokenState(t: ApiToken, now: number): string {
  if (t.revoked_at) return `revoked ${formatDateTime(t.revoked_at)}`;
  return Date.parse(t.expires_at) <= now ? 'expired' : 'active';
}
