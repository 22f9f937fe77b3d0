import { Link } from '../router';

export function NotFoundPage() {
  return (
    <div className="narrow center">
      <h1>Page not found</h1>
      <p className="muted">There is nothing at this address.</p>
      <Link to="/" className="button primary">
        Shorten a link
      </Link>
    </div>
  );
}
