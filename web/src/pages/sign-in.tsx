// Sign in with login and password; afterwards, back to the page that asked for it (a grant_url, say).
import { useState, type FormEvent } from 'react';
import { Navigate, useLocation, useSearchParams } from 'react-router';
import { ErrorNotice, Loading } from '../components/notices.tsx';
import { Page } from '../components/page.tsx';
import { useSession } from '../session.tsx';
import { useAction } from '../use-load.ts';

/**
 * Only a page of this console: `next` is resolved the way the browser would resolve it, and anything
 * that lands on another origin (//host, /\\host, a tab or newline the URL parser drops) is ignored.
 */
export function safeNext(next: string | null): string {
  const fallback = '/settings/api-keys';
  if (!next || !next.startsWith('/')) return fallback;
  try {
    const url = new URL(next, window.location.origin);
    return url.origin === window.location.origin ? `${url.pathname}${url.search}${url.hash}` : fallback;
  } catch {
    return fallback;
  }
}

export function SignInPage() {
  const { state, signIn } = useSession();
  const [params] = useSearchParams();
  // The set-password page comes here with what it did and whose password it set.
  const arrived = (useLocation().state ?? {}) as { notice?: string; login?: string };
  const [login, setLogin] = useState(arrived.login ?? '');
  const [password, setPassword] = useState('');
  const action = useAction(signIn);

  if (state.status === 'loading') return <Loading what="your session" />;
  if (state.status === 'signed-in') return <Navigate to={safeNext(params.get('next'))} replace />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(login.trim(), password);
  };

  return (
    <main id="main" className="sign-in">
      <Page title="Sign in to Keysmith">
        {(arrived.notice ?? state.notice) && !action.error && (
          <p className="notice done" role="status">
            {arrived.notice ?? state.notice}
          </p>
        )}
        <form onSubmit={submit} className="stack">
          <div className="field">
            <label htmlFor="login">Login</label>
            <input id="login" name="username" autoComplete="username" required maxLength={39} value={login} onChange={(e) => setLogin(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="password">Password</label>
            <input id="password" name="password" type="password" autoComplete="current-password" required maxLength={1024} value={password} onChange={(e) => setPassword(e.target.value)} />
          </div>
          <ErrorNotice error={action.error} />
          <button type="submit" className="primary" disabled={action.busy}>
            {action.busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p className="hint">No password yet, or forgot it? Ask a site admin for a set-password link. Scripts and CI use API keys instead.</p>
      </Page>
    </main>
  );
}
