import { Link } from 'react-router-dom';
import type { Me, Role } from '../api/types';

export function NotAllowed({ me, needed }: { me: Me; needed: Role[] }) {
  return (
    <main className="page narrow" aria-labelledby="not-allowed-title">
      <h1 id="not-allowed-title">Not allowed</h1>
      <p role="alert">
        This page is for {needed.join(' or ')} accounts. You are signed in as <strong>{me.username}</strong> (
        {me.roles.join(', ') || 'no role'}).
      </p>
      <p>
        <Link to="/">Back to worklist</Link>
      </p>
    </main>
  );
}
