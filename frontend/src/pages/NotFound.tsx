import { Link } from 'react-router-dom';

export function NotFound() {
  return (
    <main className="page narrow" aria-labelledby="nf-title">
      <h1 id="nf-title">Page not found</h1>
      <p>
        <Link to="/">Back to worklist</Link>
      </p>
    </main>
  );
}
