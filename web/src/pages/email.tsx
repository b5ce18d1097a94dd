// Settings → Email: what Keysmith emails you about (your own SSH keys and API keys), and, when nothing
// is sent, why: the server has no email settings, or you have no address. People cannot set their own
// address; a site admin does.
import { get } from '../api/client.ts';
import type { EmailNotices } from '../api/types.ts';
import { ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { useSignedIn } from '../session.tsx';
import { useLoad } from '../use-load.ts';

export function EmailPage() {
  const { user } = useSignedIn();
  const notices = useLoad(() => get<EmailNotices>('/v1/user/email-notices'), []);
  const n = notices.data;
  return (
    <Page title="Email" intro="Keysmith emails you about your own SSH keys and API keys, never about anyone else's, and never with a secret in the message.">
      {notices.loading && !n && <Loading what="your email settings" />}
      <ErrorNotice error={notices.error} />
      {n && (
        <>
          <Section title="Where email goes">
            {n.email_enabled ? (
              <p>
                Keysmith emails you at <strong>{n.address}</strong>. Only a site admin can change this address.
              </p>
            ) : (
              <div className="notice">
                <p>
                  <strong>Nothing will be emailed to you:</strong>
                </p>
                <ul>
                  {!n.mail_configured && (
                    <li>
                      This Keysmith server does not send email: it has no SMTP settings. Whoever runs it turns email on by setting <code>KEYSMITH_SMTP_URL</code> and <code>KEYSMITH_MAIL_FROM</code>.
                    </li>
                  )}
                  {n.address === null ? (
                    <li>
                      You have no email address on your account, and you cannot set one yourself: ask a site admin to set it
                      {user.site_admin ? (
                        <>
                          {' '}
                          (you are one: <code>PATCH /v1/admin/users/{user.login}</code> with <code>email</code>)
                        </>
                      ) : null}
                      .
                    </li>
                  ) : (
                    <li>
                      Your address is <strong>{n.address}</strong>; email would go there.
                    </li>
                  )}
                </ul>
              </div>
            )}
          </Section>
          <Section title={n.email_enabled ? 'What you are emailed about' : 'What you would be emailed about'}>
            <ul aria-label="Email notices">
              {n.notices.map((notice) => (
                <li key={notice.kind}>{notice.description}</li>
              ))}
            </ul>
          </Section>
        </>
      )}
    </Page>
  );
}
