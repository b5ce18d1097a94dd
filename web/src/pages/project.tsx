// One project: its checkout keys, deploy keys and per-host SSH keys, under /v1/projects/{vcs}/{account}/{name}.
// Private halves never reach the console; public halves are shown in full, to copy.
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { del, get, post, seg } from '../api/client.ts';
import type { CheckoutKey, Grant, HostKey, PolicyViolation } from '../api/types.ts';
import { grantCatalogue } from '../../../src/modules/grants/grants.catalogue.ts';
import { PublicKey } from '../components/public-key.tsx';
import { ConfirmButton } from '../components/confirm.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { Expiry, PolicyBadge } from '../components/expiry.tsx';
import { When } from '../components/when.tsx';
import { useAccountRole, useSignedIn } from '../session.tsx';
import { useAction, useLoad } from '../use-load.ts';
import { allDeployKeys, DeployKeys } from './project-deploy-keys.tsx';
import { vcsName } from '../format.ts';
import { ActionsHeader } from '../components/actions-header.tsx';

const typeName = (type: CheckoutKey['type']): string => (type === 'deploy' ? 'Deploy key' : 'User key');

type Algorithm = 'ed25519' | 'rsa';
const algorithms: ReadonlyArray<readonly [Algorithm, string]> = [
  ['ed25519', 'ed25519 (recommended)'],
  ['rsa', 'RSA, 4096 bits (for hosts that do not take ed25519)'],
];

// A user key needs this grant; the panel says whether it is given, read again when the person comes back to the tab.
const userKeyGrant = 'write:public_key';

function useUserKeyGrant() {
  const grants = useLoad(() => get<Grant[]>('/v1/user/grants'), []);
  const { reload } = grants;
  useEffect(() => {
    const again = () => {
      if (document.visibilityState === 'visible') reload();
    };
    window.addEventListener('focus', again);
    document.addEventListener('visibilitychange', again);
    return () => {
      window.removeEventListener('focus', again);
      document.removeEventListener('visibilitychange', again);
    };
  }, [reload]);
  return { given: grants.data?.find((g) => g.scope === userKeyGrant)?.granted, reload };
}

export function ProjectPage() {
  const { account = '', vcs = '', project = '' } = useParams();
  const slug = `${vcs}/${account}/${project}`;
  const base = `/v1/projects/${seg(vcs)}/${seg(account)}/${seg(project)}`;
  const { user } = useSignedIn();
  const writes = useAccountRole(account).can('project_key.write');
  const [done, setDone] = useState<string | undefined>();

  const checkoutKeys = useLoad(() => get<CheckoutKey[]>(`${base}/checkout-keys`), [base]);
  const hostKeys = useLoad(() => get<HostKey[]>(`${base}/ssh-keys`), [base]);
  const deployKeys = useLoad(() => allDeployKeys(base), [base]);
  const violations = useLoad(() => get<PolicyViolation[]>(`/v1/accounts/${seg(account)}/policy/violations`), [account]);
  const rulesOf = (kind: PolicyViolation['kind']) => new Map((violations.data ?? []).filter((v) => v.kind === kind).map((v) => [v.fingerprint, v.rule]));
  const [algorithm, setAlgorithm] = useState<Algorithm>('ed25519');
  const addCheckoutKey = useAction((type: CheckoutKey['type']) => post<CheckoutKey>(`${base}/checkout-keys`, { type, algorithm }));
  const grant = useUserKeyGrant();
  const { clearError: clearCheckoutError } = addCheckoutKey;
  const grantRefused = addCheckoutKey.error?.code === 'grant_required';
  // Given since the refusal (in another tab, or on Permissions): the refusal no longer holds.
  useEffect(() => {
    if (grantRefused && grant.given) clearCheckoutError();
  }, [grantRefused, grant.given, clearCheckoutError]);

  const [hostname, setHostname] = useState('');
  const [privateKey, setPrivateKey] = useState('');
  const addHostKey = useAction((body: { hostname: string; private_key: string }) => post<HostKey>(`${base}/ssh-keys`, body));

  const createCheckoutKey = async (type: CheckoutKey['type']) => {
    const result = await addCheckoutKey.run(type);
    if (!result.ok) {
      if (result.error.code === 'grant_required') grant.reload();
      return;
    }
    setDone(`Added a ${typeName(result.value.type).toLowerCase()} (${result.value.fingerprint_md5}).`);
    checkoutKeys.reload();
    deployKeys.reload();
  };

  const submitHostKey = async (e: FormEvent) => {
    e.preventDefault();
    const result = await addHostKey.run({ hostname: hostname.trim(), private_key: privateKey });
    // The private key leaves the page whatever the answer: the server has it, or refused it.
    setPrivateKey('');
    if (!result.ok) return;
    setDone(`Added an SSH key for ${result.value.hostname || 'all hosts'} (${result.value.fingerprint}).`);
    setHostname('');
    hostKeys.reload();
  };

  return (
    <Page title={`${vcsName(vcs)} project ${account}/${project}`}>
      <p>
        <Link to={`/accounts/${seg(account)}/projects`}>← All projects of {account}</Link>
      </p>
      <Done>{done}</Done>
      <Section title="Checkout keys">
        <p>
          CI clones <code>{slug}</code> with the preferred checkout key. Keysmith keeps its private half encrypted and gives it only to the account's runner service keys.
        </p>
        {checkoutKeys.loading && !checkoutKeys.data && <Loading what="checkout keys" />}
        <ErrorNotice error={checkoutKeys.error} />
        {checkoutKeys.data?.length === 0 && <p>No checkout keys yet.</p>}
        {checkoutKeys.data && checkoutKeys.data.length > 0 && (
          <table>
            <caption>Checkout keys of {slug}</caption>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Fingerprint and public key</th>
                <th scope="col">Created</th>
                {writes && <ActionsHeader />}
              </tr>
            </thead>
            <tbody>
              {checkoutKeys.data.map((k) => (
                <tr key={k.fingerprint_sha256}>
                  <td data-label="Type">
                    {typeName(k.type)} {k.preferred && <span className="badge on">Preferred</span>}
                  </td>
                  <td data-label="Fingerprint and public key">
                    <code className="fingerprint">{k.fingerprint_md5}</code>
                    <br />
                    <code className="fingerprint">{k.fingerprint_sha256}</code>
                    <PublicKey value={k.public_key} label={`Public key of checkout key ${k.fingerprint_md5}`} />
                  </td>
                  <td data-label="Created">
                    <When iso={k.created_at} />
                  </td>
                  {writes && (
                    <td data-label="Actions">
                      <ConfirmButton
                        label="Delete"
                        labelFor={`checkout key ${k.fingerprint_md5}`}
                        title="Delete this checkout key?"
                        confirmLabel="Delete checkout key"
                        onConfirm={async () => {
                          await del(`${base}/checkout-keys/${seg(k.fingerprint_sha256)}`);
                          setDone(`Deleted the checkout key ${k.fingerprint_md5}.`);
                          checkoutKeys.reload();
                          deployKeys.reload();
                        }}
                      >
                        <p>
                          CI can no longer check out with <code>{k.fingerprint_md5}</code>.{k.type !== 'deploy' && ' Its public half is removed from the SSH keys of the user it was made for.'}
                        </p>
                      </ConfirmButton>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {writes && (
          <>
            <h3>Add a checkout key</h3>
            <p>Keysmith generates the key pair. Its public half is shown above to copy, for instance to register it on another Git host.</p>
            <div className="field">
              <label htmlFor="checkout-algorithm">Key type</label>
              <select id="checkout-algorithm" value={algorithm} onChange={(e) => setAlgorithm(e.target.value as Algorithm)}>
                {algorithms.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            </div>
            <ul className="choices">
              <li>
                <button type="button" disabled={addCheckoutKey.busy} onClick={() => void createCheckoutKey('deploy')}>
                  Add deploy key
                </button>{' '}
                A read-only key for this repository only.
              </li>
              <li>
                <button type="button" disabled={addCheckoutKey.busy} onClick={() => void createCheckoutKey('user')}>
                  Add user key
                </button>{' '}
                A key added to your own SSH keys (<strong>{user.login}</strong>), so CI can also check out the other repositories you can reach, such as submodules.{' '}
                {grant.given === true && <>It uses your permission “{grantCatalogue[userKeyGrant].title}”, which you have given.</>}
                {grant.given === false && (
                  <>
                    It needs your permission “{grantCatalogue[userKeyGrant].title}”, which you have not given yet:{' '}
                    <Link to={`/settings/permissions?grant=${userKeyGrant}&project=${slug}`} state={{ back: `/accounts/${seg(account)}/projects/${seg(vcs)}/${seg(project)}` }}>
                      give it in Settings → Permissions
                    </Link>
                    .
                  </>
                )}
              </li>
            </ul>
            <ErrorNotice error={addCheckoutKey.error} />
          </>
        )}
      </Section>

      <DeployKeys
        slug={slug}
        base={base}
        writes={writes}
        keys={deployKeys}
        checkoutFingerprints={new Set(checkoutKeys.data?.map((k) => k.fingerprint_sha256))}
        policyRules={rulesOf('deploy_key')}
        onChanged={(message) => {
          setDone(message);
          deployKeys.reload();
          checkoutKeys.reload();
        }}
      />

      <Section title="Per-host SSH keys">
        <p>Private keys that CI jobs use to reach a deployment host. Only the account's runner service keys can fetch them.</p>
        {hostKeys.loading && !hostKeys.data && <Loading what="per-host SSH keys" />}
        <ErrorNotice error={hostKeys.error} />
        {hostKeys.data?.length === 0 && <p>No per-host SSH keys yet.</p>}
        {hostKeys.data && hostKeys.data.length > 0 && (
          <table>
            <caption>Per-host SSH keys of {slug}</caption>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Fingerprint and public key</th>
                <th scope="col">Added</th>
                <th scope="col">Expires</th>
                {writes && <ActionsHeader />}
              </tr>
            </thead>
            <tbody>
              {hostKeys.data.map((k) => (
                <tr key={`${k.hostname}|${k.fingerprint}`}>
                  <td data-label="Host">
                    {k.hostname || <em>all hosts</em>}
                    <PolicyBadge rule={rulesOf('host_key').get(k.fingerprint_sha256)} />
                  </td>
                  <td data-label="Fingerprint and public key">
                    <code className="fingerprint">{k.fingerprint}</code>
                    <br />
                    <code className="fingerprint">{k.fingerprint_sha256}</code>
                    <PublicKey value={k.public_key} label={`Public key of the SSH key for ${k.hostname || 'all hosts'} ${k.fingerprint}`} />
                  </td>
                  <td data-label="Added">
                    <When iso={k.created_at} />
                  </td>
                  <td data-label="Expires">
                    <Expiry iso={k.expires_at} expired={k.expired} />
                  </td>
                  {writes && (
                    <td data-label="Actions">
                      <ConfirmButton
                        label="Delete"
                        labelFor={`SSH key for ${k.hostname || 'all hosts'} ${k.fingerprint}`}
                        title={`Delete the SSH key for ${k.hostname || 'all hosts'}?`}
                        confirmLabel="Delete SSH key"
                        onConfirm={async () => {
                          // The every-host key has the empty hostname, which must still be sent.
                          await del(`${base}/ssh-keys/${seg(k.fingerprint_sha256)}?hostname=${seg(k.hostname)}`);
                          setDone(`Deleted the SSH key for ${k.hostname || 'all hosts'}.`);
                          hostKeys.reload();
                        }}
                      >
                        <p>CI jobs of this project can no longer use it to reach {k.hostname || 'any host'}.</p>
                      </ConfirmButton>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {writes && (
          <>
            <h3>Add a per-host SSH key</h3>
            <form className="stack" onSubmit={submitHostKey}>
              <div className="field">
                <label htmlFor="host-name">Hostname</label>
                <input id="host-name" maxLength={253} value={hostname} onChange={(e) => setHostname(e.target.value)} aria-describedby="host-name-hint" />
                <p className="hint" id="host-name-hint">
                  For example <code>deploy.example.com</code>. Leave it empty to use the key for every host.
                </p>
              </div>
              <div className="field">
                <label htmlFor="host-private-key">Private key</label>
                <textarea
                  id="host-private-key"
                  required
                  rows={6}
                  spellCheck={false}
                  autoComplete="off"
                  value={privateKey}
                  onChange={(e) => setPrivateKey(e.target.value)}
                  aria-describedby="host-private-key-hint"
                />
                <p className="hint" id="host-private-key-hint">
                  Paste a private key without a passphrase (<code>-----BEGIN OPENSSH PRIVATE KEY-----</code> …). It is stored encrypted and never shown again.
                </p>
              </div>
              <ErrorNotice error={addHostKey.error} />
              <button type="submit" className="primary" disabled={addHostKey.busy}>
                Add SSH key
              </button>
            </form>
          </>
        )}
      </Section>
    </Page>
  );
}
