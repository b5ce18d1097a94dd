// The console's pages and their addresses. /settings/… is the signed-in user's own settings;
// /accounts/{account}/… one account's. The server answers each of these paths with index.html.
import { BrowserRouter, Navigate, Route, Routes, useParams } from 'react-router';
import { RequireSession } from './components/layout.tsx';
import { Page } from './components/page.tsx';
import { ApiKeysPage } from './pages/api-keys.tsx';
import { AuditLogPage } from './pages/audit-log.tsx';
import { IntegrationsPage } from './pages/integrations.tsx';
import { MembersPage } from './pages/members.tsx';
import { PermissionsPage } from './pages/permissions.tsx';
import { ProjectPage } from './pages/project.tsx';
import { ProjectsPage } from './pages/projects.tsx';
import { ServiceKeysPage } from './pages/service-keys.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { SshKeysPage } from './pages/ssh-keys.tsx';
import { SessionProvider, useSignedIn } from './session.tsx';

function FirstAccount() {
  const { accounts } = useSignedIn();
  const first = accounts[0];
  return first ? <Navigate to={`/accounts/${encodeURIComponent(first.name)}/members`} replace /> : <Navigate to="/settings/api-keys" replace />;
}

function AccountHome() {
  const { account = '' } = useParams();
  return <Navigate to={`/accounts/${encodeURIComponent(account)}/members`} replace />;
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
          <Route element={<RequireSession />}>
            <Route index element={<Navigate to="/settings/api-keys" replace />} />
            <Route path="settings" element={<Navigate to="/settings/api-keys" replace />} />
            <Route path="settings/api-keys" element={<ApiKeysPage />} />
            <Route path="settings/ssh-keys" element={<SshKeysPage />} />
            <Route path="settings/permissions" element={<PermissionsPage />} />
            <Route path="settings/integrations" element={<IntegrationsPage />} />
            <Route path="accounts" element={<FirstAccount />} />
            <Route path="accounts/:account" element={<AccountHome />} />
            <Route path="accounts/:account/members" element={<MembersPage />} />
            <Route path="accounts/:account/service-keys" element={<ServiceKeysPage />} />
            <Route path="accounts/:account/projects" element={<ProjectsPage />} />
            <Route path="accounts/:account/projects/:vcs/:project" element={<ProjectPage />} />
            <Route path="accounts/:account/audit-log" element={<AuditLogPage />} />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </SessionProvider>
    </BrowserRouter>
  );
}
