// The shell: header navigation, the routed page, and the footer with the data attributions.
// The home page ships in the first bundle; dashboard pages and charts load on demand.
import { Suspense, lazy, useEffect, useRef } from 'react';
import { Spinner } from './components/common';
import { setApiKey, useApiKey } from './lib/auth';
import { HomePage } from './pages/HomePage';
import { NotFoundPage } from './pages/NotFoundPage';
import { SignInPage } from './pages/SignInPage';
import { Link, matchRoute, navigate, useLocation, type Route } from './router';

const LinksPage = lazy(() => import('./pages/LinksPage').then((m) => ({ default: m.LinksPage })));
const OverviewPage = lazy(() => import('./pages/OverviewPage').then((m) => ({ default: m.OverviewPage })));
const LinkAnalyticsPage = lazy(() => import('./pages/LinkAnalyticsPage').then((m) => ({ default: m.LinkAnalyticsPage })));

function titleOf(route: Route): string {
  switch (route.name) {
    case 'home':
      return 'Shorten a link';
    case 'links':
      return 'Links';
    case 'signin':
      return 'Sign in';
    case 'overview':
      return 'Overview';
    case 'link':
      return `/${route.slug} analytics`;
    case 'notfound':
      return 'Not found';
  }
}

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'home':
      return <HomePage />;
    case 'links':
      return <LinksPage />;
    case 'signin':
      return <SignInPage />;
    case 'overview':
      return <OverviewPage />;
    case 'link':
      return <LinkAnalyticsPage key={route.slug} slug={route.slug} />;
    case 'notfound':
      return <NotFoundPage />;
  }
}

function NavLink({ to, current, children }: { to: string; current: boolean; children: string }) {
  return (
    <Link to={to} aria-current={current ? 'page' : undefined}>
      {children}
    </Link>
  );
}

export function App() {
  const { path } = useLocation();
  const route = matchRoute(path);
  const apiKey = useApiKey();
  const main = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  useEffect(() => {
    document.title = `${titleOf(route)} · shortener`;
    // After an in-app navigation, move focus to the new page, as a full page load would.
    if (firstRender.current) firstRender.current = false;
    else main.current?.focus({ preventScroll: true });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- path identifies the route
  }, [path]);

  const signOut = () => {
    setApiKey(null);
    navigate('/');
  };

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="header-inner">
          <Link to="/" className="brand" aria-label="shortener home">
            <svg width="24" height="24" viewBox="0 0 32 32" aria-hidden="true">
              <rect width="32" height="32" rx="7" fill="var(--accent)" />
              <path d="M9 17l5-5m-2 9l11-11" stroke="#fff" strokeWidth="3" strokeLinecap="round" />
            </svg>
            <span>shortener</span>
          </Link>
          <nav aria-label="Main">
            <NavLink to="/" current={route.name === 'home'}>
              Shorten
            </NavLink>
            <NavLink to="/dashboard" current={route.name === 'links' || route.name === 'link'}>
              Links
            </NavLink>
            <NavLink to="/dashboard/overview" current={route.name === 'overview'}>
              Overview
            </NavLink>
            {apiKey ? (
              <button type="button" className="link-button nav-button" onClick={signOut}>
                Sign out
              </button>
            ) : (
              <NavLink to="/dashboard/signin" current={route.name === 'signin'}>
                Sign in
              </NavLink>
            )}
          </nav>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Suspense
          fallback={
            <div className="page-loading">
              <Spinner />
            </div>
          }
        >
          <Page route={route} />
        </Suspense>
      </main>
      <footer className="site-footer">
        <p>IP geolocation: ip-location-db (CC BY 4.0), data from the NRO and regional Internet registries</p>
        <p>
          User agents: <a href="https://github.com/ua-parser/uap-core">uap-core</a> · Bots:{' '}
          <a href="https://github.com/monperrus/crawler-user-agents">crawler-user-agents</a> · Map: Natural Earth
        </p>
      </footer>
    </>
  );
}
