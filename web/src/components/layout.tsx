// The frame around every signed-in page: who is signed in, sign-out, the user's own settings, and the
// settings of one account at a time, chosen with the account switcher.
import { useEffect, useState } from 'react';
import { Link, NavLink, Navigate, Outlet, useLocation, useMatch, useNavigate } from 'react-router';
import { allows, useAccountRole, useSession, useSignedIn } from '../session.tsx';
import { asApiError } from '../use-load.ts';
import type { ApiError } from '../api/client.ts';
import type { Account } from '../api/types.ts';
import { roleName } from '../format.ts';
import { ErrorNotice, Loading } from './notices.tsx';

const userPages = [
  ['api-keys', 'API keys'],
  ['ssh-keys', 'SSH keys'],
  ['ssh-certificates', 'SSH certificates'],
  ['permissions', 'Permissions'],
  ['integrations', 'Integrations'],
  ['password', 'Password'],
  ['email', 'Email'],
  ['security-log', 'Security log'],
] as const;

// The site administration pages, offered to site admins only (the server refuses anyone else).
const adminPages = [
  ['users', 'Users'],
  ['audit-log', 'Site audit log'],
  ['policy', 'Policy'],
] as const;

// Each account page, and the permission it needs: a page the role cannot use is not offered.
const accountPages = [
  ['members', 'Members', 'member.read'],
  ['service-keys', 'Service API keys', 'service_key.manage'],
  ['projects', 'Projects', 'project.read'],
  ['audit-log', 'Audit log', 'audit.read'],
  ['policy', 'Policy', 'policy.read'],
  ['ssh-ca', 'SSH CA', 'ssh_ca.read'],
  ['webhooks', 'Webhooks', 'webhook.manage'],
] as const;

/** Pages behind sign-in: a signed-out visitor is sent to sign in, and brought back afterwards. */
export function RequireSession() {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === 'loading') return <Loading what="your session" />;
  if (state.status === 'signed-out') {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/sign-in?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Layout />;
}

function Layout() {
  const { user, accounts, signOut } = useSignedIn();
  const navigate = useNavigate();
  const inAccount = useMatch('/accounts/:account/*');
  const [lastAccount, setLastAccount] = useState<string | undefined>();
  const [signOutError, setSignOutError] = useState<ApiError | undefined>();
  const current = inAccount?.params.account ?? lastAccount ?? accounts[0]?.name;
  const { role: currentRole, can } = useAccountRole(current ?? '');
  const section = inAccount?.params['*']?.split('/')[0];

  const switchTo = (account: string) => {
    setLastAccount(account);
    // The same page in the other account, if the role there allows it; else its members.
    const role = accounts.find((a) => a.name === account)?.role;
    const same = accountPages.find(([path, , needs]) => path === section && allows(role, needs));
    const page = same ? same[0] : 'members';
    void navigate(`/accounts/${encodeURIComponent(account)}/${page}`);
  };

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Keysmith
        </Link>
        <a href="/docs">API docs</a>
        <span className="who">
          Signed in as <strong>{user.login}</strong>
        </span>
        <button
          type="button"
          onClick={() =>
            signOut().then(
              () => navigate('/sign-in'),
              (err: unknown) => setSignOutError(asApiError(err)),
            )
          }
        >
          Sign out
        </button>
      </header>
      <ErrorNotice error={signOutError} />
      <div className="shell">
        <nav className="side" aria-label="Settings">
          <h2>Your settings</h2>
          <ul>
            {userPages.map(([path, label]) => (
              <li key={path}>
                <NavLink to={`/settings/${path}`}>{label}</NavLink>
              </li>
            ))}
          </ul>
          <h2>Account settings</h2>
          {current ? (
            <>
              <AccountSwitch accounts={accounts} current={current} onSwitch={switchTo} />
              {currentRole && <p className="hint">Your role here: {roleName(currentRole)}</p>}
              <ul>
                {accountPages
                  .filter(([, , needs]) => can(needs))
                  .map(([path, label]) => (
                    <li key={path}>
                      <NavLink to={`/accounts/${encodeURIComponent(current)}/${path}`}>{label}</NavLink>
                    </li>
                  ))}
              </ul>
            </>
          ) : (
            <p className="hint">You do not belong to any account yet. An account's owner or admin can add you, or create your own.</p>
          )}
          <ul>
            <li>
              <NavLink to="/settings/accounts">Create an account</NavLink>
            </li>
          </ul>
          {user.site_admin && (
            <>
              <h2>Site administration</h2>
              <ul>
                {adminPages.map(([path, label]) => (
                  <li key={path}>
                    <NavLink to={`/admin/${path}`}>{label}</NavLink>
                  </li>
                ))}
              </ul>
            </>
          )}
        </nav>
        <main id="main" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </>
  );
}

/** Chooses the account whose settings the menu shows; the Switch button goes there. */
function AccountSwitch({ accounts, current, onSwitch }: { accounts: Account[]; current: string; onSwitch: (account: string) => void }) {
  const [chosen, setChosen] = useState(current);
  useEffect(() => setChosen(current), [current]);
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSwitch(chosen);
      }}
    >
      <label htmlFor="account-switch">Account</label>
      <select id="account-switch" value={chosen} onChange={(e) => setChosen(e.target.value)}>
        {accounts.map((a) => (
          <option key={a.name} value={a.name}>
            {a.name} ({roleName(a.role)})
          </option>
        ))}
      </select>
      <button type="submit" disabled={chosen === current}>
        Switch
      </button>
    </form>
  );
}
