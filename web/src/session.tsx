// Who is signed in, and the accounts they belong to. A reloaded page asks GET /v1/session for both
// the user and the CSRF token; a 401 from any call sends the person back to sign-in.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, del, get, post, setCsrfToken, whenSessionEnds } from './api/client.ts';
import type { Account, User } from './api/types.ts';
import { permissions, type Permission } from '../../src/modules/access/roles.ts';

interface SignedIn {
  user: User;
  accounts: Account[];
}

type State = { status: 'loading' } | { status: 'signed-out'; notice?: string } | ({ status: 'signed-in' } & SignedIn);

interface SessionApi {
  state: State;
  signIn: (login: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
  reloadAccounts: () => Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: 'loading' });

  const enter = useCallback(async (user: User, csrf: string) => {
    setCsrfToken(csrf);
    const accounts = await get<Account[]>('/v1/accounts');
    setState({ status: 'signed-in', user, accounts });
  }, []);

  useEffect(() => {
    whenSessionEnds(() => {
      setCsrfToken(null);
      setState({ status: 'signed-out', notice: 'Your session has ended. Sign in again to go on.' });
    });
    get<{ user: User | null; csrf_token: string | null }>('/v1/session')
      .then(({ user, csrf_token }) => (user && csrf_token ? enter(user, csrf_token) : setState({ status: 'signed-out' })))
      .catch(() => setState({ status: 'signed-out', notice: 'Keysmith could not be reached. Reload the page to try again.' }));
    return () => whenSessionEnds(null);
  }, [enter]);

  const api = useMemo<SessionApi>(
    () => ({
      state,
      async signIn(login, password) {
        const { user, csrf_token } = await post<{ user: User; csrf_token: string }>('/v1/session', { login, password });
        await enter(user, csrf_token);
      },
      async signOut() {
        try {
          await del('/v1/session');
        } catch (err) {
          // A session that had already ended is as signed out as one that ends now.
          if (!(err instanceof ApiError && err.status === 401)) throw err;
        }
        setCsrfToken(null);
        setState({ status: 'signed-out', notice: 'You are signed out.' });
      },
      async reloadAccounts() {
        const accounts = await get<Account[]>('/v1/accounts');
        setState((now) => (now.status === 'signed-in' ? { ...now, accounts } : now));
      },
    }),
    [state, enter],
  );
  return <SessionContext.Provider value={api}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** For pages behind sign-in: the signed-in user and their accounts. */
export function useSignedIn(): SignedIn & Pick<SessionApi, 'signOut' | 'reloadAccounts'> {
  const { state, signOut, reloadAccounts } = useSession();
  if (state.status !== 'signed-in') throw new Error('useSignedIn on a page shown signed out');
  return { user: state.user, accounts: state.accounts, signOut, reloadAccounts };
}

/** Whether a role in an account holds a permission: the server's own table, built into the console. */
export function allows(role: string | undefined, permission: Permission): boolean {
  return role !== undefined && (permissions[permission].roles as readonly string[]).includes(role);
}

/**
 * What the signed-in user's role in an account allows, so the console offers only what will work.
 * The server still decides every request.
 */
export function useAccountRole(account: string): { role: Account['role'] | undefined; can: (permission: Permission) => boolean } {
  const { accounts } = useSignedIn();
  const role = accounts.find((a) => a.name === account)?.role;
  return { role, can: (permission) => allows(role, permission) };
}
