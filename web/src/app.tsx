// The console's pages and their addresses. /settings/… is the signed-in user's own settings;
// /accounts/{account}/… one account's. The server answers each of these paths with index.html.
import { Fragment, useEffect, useRef, useState } from 'react';
import { AccountPolicyPage, AdminPolicyPage } from './pages/policy.tsx';
import { BrowserRouter, Navigate, Outlet, Route, Routes, useParams } from 'react-router';
import { RequireSession } from './components/layout.tsx';
import { Loading } from './components/notices.tsx';
import { Page } from './components/page.tsx';
import { AccountsPage } from './pages/accounts.tsx';
import { AdminAuditLogPage } from './pages/admin-audit-log.tsx';
import { AdminUserPage } from './pages/admin-user.tsx';
import { AdminUsersPage } from './pages/admin-users.tsx';
import { ApiKeysPage } from './pages/api-keys.tsx';
import { AuditLogPage } from './pages/audit-log.tsx';
import { EmailPage } from './pages/email.tsx';
import { IntegrationsPage } from './pages/integrations.tsx';
import { MembersPage } from './pages/members.tsx';
import { PermissionsPage } from './pages/permissions.tsx';
import { PasswordPage } from './pages/password.tsx';
import { ProjectPage } from './pages/project.tsx';
import { ProjectsPage } from './pages/projects.tsx';
import { SecurityLogPage } from './pages/security-log.tsx';
import { ServiceKeysPage } from './pages/service-keys.tsx';
import { SetPasswordPage } from './pages/set-password.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { SshKeysPage } from './pages/ssh-keys.tsx';
import { WebhooksPage } from './pages/webhooks.tsx';
import { AccountSshCaPage, SshCertificatesPage } from './pages/ssh-certificates.tsx';
import { SessionProvider, useSignedIn } from './session.tsx';

function FirstAccount() {
  const { accounts } = useSignedIn();
  const first = accounts[0];
  return first ? <Navigate to={`/accounts/${encodeURIComponent(first.name)}/members`} replace /> : <Navigate to="/settings/accounts" replace />;
}

/**
 * The pages of one account, remounted when the account changes: nothing a page holds (a new key's
 * secret, a message, a page number) follows the person into another account. An account the person
 * is not a member of (or that does not exist: the two look the same) is a plain not-found page that
 * repeats nothing of the address, not that account's page titles.
 */
function AccountScope() {
  const { account = '' } = useParams();
  const member = useIsMember(account);
  if (member === undefined) return <Loading what="the account" />;
  if (!member) return <NotFound />;
  return (
    <Fragment key={account}>
      <Outlet />
    </Fragment>
  );
}

/** Whether the signed-in user belongs to `account`; asks the server again once (a membership given since sign-in). */
function useIsMember(account: string): boolean | undefined {
  const { accounts, reloadAccounts } = useSignedIn();
  const listed = accounts.some((a) => a.name.toLowerCase() === account.toLowerCase());
  const [checked, setChecked] = useState<string | undefined>();
  // reloadAccounts changes with every session state (including the one it sets): read it from a ref,
  // so the reload it causes does not start another.
  const reload = useRef(reloadAccounts);
  reload.current = reloadAccounts;
  useEffect(() => {
    if (listed || checked === account) return;
    reload.current().then(
      () => setChecked(account),
      () => setChecked(account),
    );
  }, [account, listed, checked]);
  if (listed) return true;
  return checked === account ? false : undefined;
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>There is no console page at this address. Use the menu to find your way.</p>
    </Page>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <Routes>
          <Route path="/sign-in" element={<SignInPage />} />
          <Route path="/set-password" element={<SetPasswordPage />} />
          <Route element={<RequireSession />}>
            <Route index element={<Navigate to="/settings/api-keys" replace />} />
            <Route path="settings" element={<Navigate to="/settings/api-keys" replace />} />
            <Route path="settings/api-keys" element={<ApiKeysPage />} />
            <Route path="settings/ssh-keys" element={<SshKeysPage />} />
            <Route path="settings/ssh-certificates" element={<SshCertificatesPage />} />
            <Route path="settings/permissions" element={<PermissionsPage />} />
            <Route path="settings/integrations" element={<IntegrationsPage />} />
            <Route path="settings/password" element={<PasswordPage />} />
            <Route path="settings/email" element={<EmailPage />} />
            <Route path="settings/security-log" element={<SecurityLogPage />} />
            <Route path="settings/accounts" element={<AccountsPage />} />
            <Route path="admin" element={<Navigate to="/admin/users" replace />} />
            <Route path="admin/users" element={<AdminUsersPage />} />
            <Route path="admin/users/:login" element={<AdminUserPage />} />
            <Route path="admin/audit-log" element={<AdminAuditLogPage />} />
            <Route path="admin/policy" element={<AdminPolicyPage />} />
            <Route path="accounts" element={<FirstAccount />} />
            <Route path="accounts/:account" element={<AccountScope />}>
              <Route index element={<Navigate to="members" replace />} />
              <Route path="members" element={<MembersPage />} />
              <Route path="service-keys" element={<ServiceKeysPage />} />
              <Route path="projects" element={<ProjectsPage />} />
              <Route path="projects/:vcs/:project" element={<ProjectPage />} />
              <Route path="audit-log" element={<AuditLogPage />} />
              <Route path="policy" element={<AccountPolicyPage />} />
              <Route path="ssh-ca" element={<AccountSshCaPage />} />
              <Route path="webhooks" element={<WebhooksPage />} />
            </Route>
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </SessionProvider>
    </BrowserRouter>
  );
}
