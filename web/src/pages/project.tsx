// One project: its checkout keys and its per-host SSH keys, under /v1/projects/{vcs}/{account}/{name}.
// Private halves never reach the console.
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { call, del, get, pageInfo, post, seg } from '../api/client.ts';
import type { CheckoutKey, DeployKey, Grant, HostKey } from '../api/types.ts';
import { grantCatalogue } from '../../../src/modules/grants/grants.catalogue.ts';
import { PublicKey } from '../components/public-key.tsx';
import { ConfirmButton } from '../components/confirm.tsx';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { When } from '../components/when.tsx';
import { useAccountRole, useSignedIn } from '../session.tsx';
import { useAction, useLoad, type Loaded } from '../use-load.ts';
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

/** Every deploy key of the project, following the pages. */
async function allDeployKeys(base: string): Promise<DeployKey[]> {
  const keys: DeployKey[] = [];
  for (let page = 1; ; page++) {
    const { data, headers } = await call<DeployKey[]>('GET', `${base}/deploy-keys`, { query: { per_page: 100, page } });
    keys.push(...data);
    if (!pageInfo(headers).hasNext) return keys;
  }
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
  const [algorithm, setAlgorithm] = useState<Algorithm>('ed25519');
  const addCheckoutKey = useAction((type: CheckoutKey['type']) => post<CheckoutKey>(`${base}/checkout-keys`, { type, algorithm }));
  const grant = useUserKeyGrant();
  const { clearError: clearCheckoutError } = addCheckoutKey;
  const grantRefused = addCheckoutKey.error?.code === 'grant_required';
  // Given since the refusal (in another tab, or on Permissions): the refusal no longer holds.
  useEffect(() => {
    if (grantRefused && grant.given) clearCheckoutError();
  }, [grantRefused, grant.given, clearCheckoutError]);

  const [deployTitle, setDeployTitle] = useState('');
  const [deployKey, setDeployKey] = useState('');
  const [deployWrites, setDeployWrites] = useState(false);
  const addDeployKey = useAction((body: { title?: string; key: string; read_only: boolean }) => post<DeployKey>(`${base}/deploy-keys`, body));

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

  const submitDeployKey = async (e: FormEvent) => {
    e.preventDefault();
    const result = await addDeployKey.run({ key: deployKey.trim(), read_only: !deployWrites, ...(deployTitle.trim() ? { title: deployTitle.trim() } : {}) });
    if (!result.ok) {
      // A private key pasted by mistake does not stay on the screen.
      if (result.error.code === 'key_is_private') setDeployKey('');
      return;
    }
    setDone(`Added the deploy key “${result.value.title}” (${result.value.fingerprint_sha256}).`);
    setDeployTitle('');
    setDeployKey('');
    setDeployWrites(false);
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

      <DeployKeysSection
        slug={slug}
        base={base}
        writes={writes}
        keys={deployKeys}
        checkoutFingerprints={new Set(checkoutKeys.data?.map((k) => k.fingerprint_sha256))}
        onDeleted={(message) => {
          setDone(message);
          deployKeys.reload();
          checkoutKeys.reload();
        }}
      >
        <h3>Add an existing public key as a deploy key</h3>
        <form className="stack" onSubmit={submitDeployKey}>
          <div className="field">
            <label htmlFor="deploy-title">Title (optional)</label>
            <input id="deploy-title" maxLength={255} value={deployTitle} onChange={(e) => setDeployTitle(e.target.value)} aria-describedby="deploy-title-hint" />
            <p className="hint" id="deploy-title-hint">
              Defaults to the key's comment.
            </p>
          </div>
          <div className="field">
            <label htmlFor="deploy-key">Public key</label>
            <textarea id="deploy-key" required rows={4} spellCheck={false} autoComplete="off" value={deployKey} onChange={(e) => setDeployKey(e.target.value)} aria-describedby="deploy-key-hint" />
            <p className="hint" id="deploy-key-hint">
              Paste the contents of a <code>.pub</code> file. Only the public half: the private key stays with whoever uses it.
            </p>
          </div>
          <div className="check">
            <input type="checkbox" id="deploy-writes" checked={deployWrites} onChange={(e) => setDeployWrites(e.target.checked)} />
            <label htmlFor="deploy-writes">Allow pushing with this key (unticked, it can only read)</label>
          </div>
          <ErrorNotice error={addDeployKey.error} />
          <button type="submit" className="primary" disabled={addDeployKey.busy}>
            Add public key
          </button>
        </form>
      </DeployKeysSection>

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
                {writes && <ActionsHeader />}
              </tr>
            </thead>
            <tbody>
              {hostKeys.data.map((k) => (
                <tr key={`${k.hostname}|${k.fingerprint}`}>
                  <td data-label="Host">{k.hostname || <em>all hosts</em>}</td>
                  <td data-label="Fingerprint and public key">
                    <code className="fingerprint">{k.fingerprint}</code>
                    <br />
                    <code className="fingerprint">{k.fingerprint_sha256}</code>
                    <PublicKey value={k.public_key} label={`Public key of the SSH key for ${k.hostname || 'all hosts'} ${k.fingerprint}`} />
                  </td>
                  <td data-label="Added">
                    <When iso={k.created_at} />
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

/**
 * The project's deploy keys: the public keys that may reach its repository. A deploy checkout key's
 * public half is one of them; a writer may also paste an existing public key (children: the form).
 */
function DeployKeysSection({
  slug,
  base,
  writes,
  keys,
  checkoutFingerprints,
  onDeleted,
  children,
}: {
  slug: string;
  base: string;
  writes: boolean;
  keys: Loaded<DeployKey[]>;
  checkoutFingerprints: ReadonlySet<string>;
  onDeleted: (message: string) => void;
  children: ReactNode;
}) {
  return (
    <Section title="Deploy keys">
      <p>
        Public keys that may reach <code>{slug}</code>, each read-only unless it was added to push. A checkout key of type deploy is listed here too.
      </p>
      {keys.loading && !keys.data && <Loading what="deploy keys" />}
      <ErrorNotice error={keys.error} />
      {keys.data?.length === 0 && <p>No deploy keys yet.</p>}
      {keys.data && keys.data.length > 0 && (
        <table>
          <caption>Deploy keys of {slug}</caption>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Fingerprint and public key</th>
              <th scope="col">Access</th>
              <th scope="col">Added</th>
              <th scope="col">Last used</th>
              {writes && <ActionsHeader />}
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id}>
                <td data-label="Title">
                  {k.title}
                  {checkoutFingerprints.has(k.fingerprint_sha256) && <span className="hint"> (a checkout key)</span>}
                  {k.added_by && <span className="hint"> added by {k.added_by}</span>}
                </td>
                <td data-label="Fingerprint and public key">
                  <code className="fingerprint">{k.fingerprint_sha256}</code>
                  <PublicKey value={k.key} label={`Public key of the deploy key ${k.title}`} />
                </td>
                <td data-label="Access">{k.read_only ? 'read only' : 'read and push'}</td>
                <td data-label="Added">
                  <When iso={k.created_at} />
                </td>
                <td data-label="Last used">
                  <When iso={k.last_used_at} never="Never" />
                </td>
                {writes && (
                  <td data-label="Actions">
                    <ConfirmButton
                      label="Delete"
                      labelFor={`the deploy key ${k.title}`}
                      title={`Delete the deploy key “${k.title}”?`}
                      confirmLabel="Delete the deploy key"
                      onConfirm={async () => {
                        await del(`${base}/deploy-keys/${k.id}`);
                        onDeleted(`Deleted the deploy key “${k.title}”.`);
                      }}
                    >
                      <p>
                        Anything using <code>{k.fingerprint_sha256}</code> can no longer reach {slug}.{checkoutFingerprints.has(k.fingerprint_sha256) && ' The checkout key made from it goes too.'}
                      </p>
                    </ConfirmButton>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {writes && children}
    </Section>
  );
}
