// SSH certificates: Settings → SSH certificates (your own, with Revoke, and how to get one), and
// Account → SSH CA (the CA public key and the sshd_config line that trusts it, for every member; the
// account's issued certificates with Revoke, for owners and admins only, as the server allows).
import { useParams } from 'react-router';
import { del, get, seg } from '../api/client.ts';
import { ConfirmButton } from '../components/confirm.tsx';
import { CopyField } from '../components/copy.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { PublicKey } from '../components/public-key.tsx';
import { When } from '../components/when.tsx';
import { ActionsHeader } from '../components/actions-header.tsx';
import { useAccountRole } from '../session.tsx';
import { useLoad } from '../use-load.ts';
import { useState } from 'react';

/** GET /v1/user/ssh-certificates and /v1/accounts/{account}/ssh-certificates, one row. */
export interface SshCertificate {
  serial: number;
  account: string;
  kind: 'user' | 'runner';
  key_id: string;
  principals: string[];
  key_type: string;
  key_fingerprint_sha256: string;
  valid_after: string;
  valid_before: string;
  requested_by: string;
  created_at: string;
  revoked_at: string | null;
}

interface CaKeys {
  keys: { public_key: string; fingerprint_sha256: string; state: 'active' | 'previous'; created_at: string }[];
}

type State = 'valid' | 'expired' | 'revoked' | 'not yet valid';

function stateOf(c: SshCertificate, now: number): State {
  if (c.revoked_at) return 'revoked';
  if (Date.parse(c.valid_before) <= now) return 'expired';
  if (Date.parse(c.valid_after) > now) return 'not yet valid';
  return 'valid';
}

const stateText: Record<State, string> = { valid: 'Valid', expired: 'Expired', revoked: 'Revoked', 'not yet valid': 'Not yet valid' };

function CertificateTable({
  caption,
  certificates,
  showAccount,
  showRequester,
  onRevoked,
}: {
  caption: string;
  certificates: SshCertificate[];
  showAccount: boolean;
  showRequester: boolean;
  onRevoked: (c: SshCertificate) => void;
}) {
  const now = Date.now();
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Serial</th>
          {showAccount && <th scope="col">Account</th>}
          <th scope="col">Principals</th>
          {showRequester && <th scope="col">Requested by</th>}
          <th scope="col">Valid until</th>
          <th scope="col">State</th>
          <ActionsHeader />
        </tr>
      </thead>
      <tbody>
        {certificates.map((c) => {
          const state = stateOf(c, now);
          return (
            <tr key={`${c.account}/${c.serial}`}>
              <td data-label="Serial">{c.serial}</td>
              {showAccount && <td data-label="Account">{c.account}</td>}
              <td data-label="Principals">
                {c.principals.map((p) => (
                  <code key={p} className="principal">
                    {p}{' '}
                  </code>
                ))}
                <br />
                <span className="hint">
                  {c.key_type} <code className="fingerprint">{c.key_fingerprint_sha256}</code>
                </span>
              </td>
              {showRequester && <td data-label="Requested by">{c.requested_by}</td>}
              <td data-label="Valid until">
                <When iso={c.valid_before} />
              </td>
              <td data-label="State">
                <span>{stateText[state]}</span>
                {c.revoked_at && (
                  <>
                    <br />
                    <span className="hint">
                      <When iso={c.revoked_at} />
                    </span>
                  </>
                )}
              </td>
              <td data-label="Actions">
                {state === 'valid' || state === 'not yet valid' ? (
                  <ConfirmButton
                    label="Revoke"
                    labelFor={`SSH certificate ${c.serial} of ${c.account}`}
                    title={`Revoke SSH certificate ${c.serial}?`}
                    confirmLabel="Revoke certificate"
                    onConfirm={async () => {
                      await del(`/v1/accounts/${seg(c.account)}/ssh-certificates/${c.serial}`);
                      onRevoked(c);
                    }}
                  >
                    <p>
                      Servers that ask Keysmith at login refuse it at once; servers that read the account's revocation list (KRL) refuse it when they next fetch it. Principals:{' '}
                      {c.principals.join(', ')}.
                    </p>
                  </ConfirmButton>
                ) : (
                  <span className="hint">—</span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function SshCertificatesPage() {
  const certificates = useLoad(() => get<SshCertificate[]>('/v1/user/ssh-certificates', { query: { limit: 100 } }), []);
  const [done, setDone] = useState<string | undefined>();
  const origin = window.location.origin;
  return (
    <Page
      title="SSH certificates"
      intro="Short-lived certificates for your SSH keys, signed by an account's SSH CA. A server that trusts the CA lets you in until the certificate expires or is revoked."
    >
      <Done>{done}</Done>
      <Section title="Your SSH certificates">
        {certificates.loading && !certificates.data && <Loading what="your SSH certificates" />}
        <ErrorNotice error={certificates.error} />
        {certificates.data?.length === 0 && <p>No SSH certificates yet.</p>}
        {certificates.data && certificates.data.length > 0 && (
          <CertificateTable
            caption="Your SSH certificates, newest first"
            certificates={certificates.data}
            showAccount
            showRequester={false}
            onRevoked={(c) => {
              setDone(`Revoked SSH certificate ${c.serial} of ${c.account}.`);
              certificates.reload();
            }}
          />
        )}
      </Section>
      <Section title="Get a certificate">
        <p>
          Add your public key under SSH keys first, then run this in a checkout of Keysmith with <code>KEYSMITH_TOKEN</code> set to one of your user API keys. It writes{' '}
          <code>~/.ssh/id_ed25519-cert.pub</code>, which ssh uses beside the key.
        </p>
        <CopyField id="ssh-certificate-command" label="Command" value={`npx keysmith ssh-certificate --url ${origin} --key ~/.ssh/id_ed25519.pub --ttl 8h`} />
      </Section>
    </Page>
  );
}

export function AccountSshCaPage() {
  const { account = '' } = useParams();
  const { can } = useAccountRole(account);
  const ca = useLoad(() => get<CaKeys>(`/v1/accounts/${seg(account)}/ssh-ca`), [account]);
  const origin = window.location.origin;
  const caFile = `/etc/ssh/keysmith-${account}-ca.pub`;
  return (
    <Page title={`SSH CA of ${account}`} intro="The certificate authority that signs short-lived SSH certificates for this account's members and CI jobs.">
      <Section title="Trust this CA on a server">
        {ca.loading && !ca.data && <Loading what="the SSH CA" />}
        <ErrorNotice error={ca.error} />
        {ca.data?.keys.map((k) => (
          <div key={k.fingerprint_sha256}>
            <h3>{k.state === 'active' ? 'Active CA key' : 'Previous CA key (still trusted)'}</h3>
            <p>
              <code className="fingerprint">{k.fingerprint_sha256}</code>, made <When iso={k.created_at} />
            </p>
            <PublicKey value={k.public_key} label={`${k.state === 'active' ? 'Active' : 'Previous'} CA public key`} />
          </div>
        ))}
        {ca.data && (
          <>
            <p>Fetch the CA file (every trusted key, one a line) on the server, then add the line to sshd_config and reload sshd:</p>
            <CopyField id="ssh-ca-fetch" label="Fetch the CA file" value={`curl -fsS -o ${caFile} ${origin}/v1/accounts/${seg(account)}/ssh-ca.pub`} />
            <CopyField id="ssh-ca-trusted" label="sshd_config line" value={`TrustedUserCAKeys ${caFile}`} />
          </>
        )}
      </Section>
      {can('ssh_certificate.manage') ? (
        <IssuedCertificates account={account} />
      ) : (
        <p className="hint">Only owners and admins see the certificates issued in this account; yours are under Your settings → SSH certificates.</p>
      )}
    </Page>
  );
}

function IssuedCertificates({ account }: { account: string }) {
  const certificates = useLoad(() => get<SshCertificate[]>(`/v1/accounts/${seg(account)}/ssh-certificates`, { query: { limit: 100 } }), [account]);
  const [done, setDone] = useState<string | undefined>();
  return (
    <Section title="Issued certificates">
      <Done>{done}</Done>
      {certificates.loading && !certificates.data && <Loading what="the issued certificates" />}
      <ErrorNotice error={certificates.error} />
      {certificates.data?.length === 0 && <p>No certificates issued yet.</p>}
      {certificates.data && certificates.data.length > 0 && (
        <CertificateTable
          caption={`Certificates issued in ${account}, newest first`}
          certificates={certificates.data}
          showAccount={false}
          showRequester
          onRevoked={(c) => {
            setDone(`Revoked SSH certificate ${c.serial}.`);
            certificates.reload();
          }}
        />
      )}
    </Section>
  );
}
