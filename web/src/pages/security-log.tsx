// Settings → Security log: what was done as you, and every refused sign-in that tried your login, with
// the address it came from and how many times (GitHub's security log).
import { AuditTrail } from '../components/audit-trail.tsx';
import { Page, Section } from '../components/page.tsx';

export function SecurityLogPage() {
  return (
    <Page
      title="Your security log"
      intro="What was done as you, and every refused sign-in that tried your login, newest first. Refused sign-ins you do not recognise are someone else guessing: keep your password long, and ask a site admin if they go on."
    >
      <Section title="Events">
        <AuditTrail path="/v1/user/audit-events" caption="Your security log" what="your security log" />
      </Section>
    </Page>
  );
}
