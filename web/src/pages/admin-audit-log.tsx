// Site administration → Site audit log: every event of the instance, newest first, including refused
// sign-ins and refused credentials, which belong to no account (site admins only; the server says so
// to anyone else).
import { AuditTrail } from '../components/audit-trail.tsx';
import { Page, Section } from '../components/page.tsx';

export function AdminAuditLogPage() {
  return (
    <Page title="Site audit log" intro="Every event of this Keysmith instance, newest first: changes in every account, refused sign-ins and refused credentials.">
      <Section title="Events">
        <AuditTrail path="/v1/admin/audit-events" caption="Audit events of the whole site" what="the site audit log" />
      </Section>
    </Page>
  );
}
