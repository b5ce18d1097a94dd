// Account → Audit log: every change, key fetch and refused sign-in of the account, newest first,
// filtered by action and paged (the trail itself is components/audit-trail.tsx, shared with the
// site's audit log and the user's security log).
import { useParams } from 'react-router';
import { AuditTrail } from '../components/audit-trail.tsx';
import { Page, Section } from '../components/page.tsx';

export function AuditLogPage() {
  const { account = '' } = useParams();
  return (
    <Page title={`Audit log of ${account}`} intro="Every change to the account, every fetch of private key material, and every refused sign-in, newest first.">
      <Section title="Events">
        <AuditTrail path="/v1/audit-events" account={account} caption={`Audit events of ${account}`} what="the audit log" />
      </Section>
    </Page>
  );
}
