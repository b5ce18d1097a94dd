// The credential policy: an account's (Account → Policy; owners and admins edit, members read) and
// the instance's (Site administration → Policy). Beside it, the credentials that break it now, each
// with a badge naming the rule: tightening a policy deletes nothing.
import { useEffect, useState, type FormEvent } from 'react';
import { useParams } from 'react-router';
import { ACCEPTED_KEY_TYPES } from '../../../src/crypto/ssh-key-types.ts';
import { get, put, seg } from '../api/client.ts';
import type { Policy, PolicyViolation } from '../api/types.ts';
import { Done, ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { useAccountRole } from '../session.tsx';
import { useAction, useLoad } from '../use-load.ts';

const numberFields = [
  ['api_key_max_lifetime_days', 'Longest API key lifetime (days)', 'From 1 to 3650.'],
  ['ssh_key_max_lifetime_days', 'Longest SSH key lifetime (days)', 'From 1 to 3650, counted from when the key was added.'],
  ['rsa_min_bits', 'Smallest RSA key (bits)', 'From 2048 to 16384.'],
  ['certificate_max_ttl_seconds', 'Longest SSH certificate (seconds)', 'From 60 to 86400.'],
  ['disable_unused_after_days', 'Disable credentials unused for (days)', 'A credential unused this long is disabled (its owner can enable it again); its owner is warned 7 days before.'],
] as const;
type NumberField = (typeof numberFields)[number][0];

const kinds: Record<PolicyViolation['kind'], string> = {
  ssh_key: 'SSH key',
  deploy_key: 'Deploy key',
  host_key: 'Per-host key',
  user_api_key: 'User API key',
  service_api_key: 'Service API key',
};

function PolicyEditor({ path, canEdit, who }: { path: string; canEdit: boolean; who: string }) {
  const policy = useLoad(() => get<Policy>(path), [path]);
  const violations = useLoad(() => get<PolicyViolation[]>(`${path}/violations`), [path]);
  const [numbers, setNumbers] = useState<Record<NumberField, string>>({
    api_key_max_lifetime_days: '',
    ssh_key_max_lifetime_days: '',
    rsa_min_bits: '',
    certificate_max_ttl_seconds: '',
    disable_unused_after_days: '',
  });
  const [types, setTypes] = useState<string[] | null>(null);
  const [verified, setVerified] = useState(false);
  const [done, setDone] = useState<string | undefined>();
  const save = useAction((body: Record<string, unknown>) => put<Policy>(path, body));

  useEffect(() => {
    const p = policy.data;
    if (!p) return;
    setNumbers(Object.fromEntries(numberFields.map(([f]) => [f, p[f] === null ? '' : String(p[f])])) as Record<NumberField, string>);
    setTypes(p.ssh_key_types);
    setVerified(p.require_verified_ssh_keys === true);
  }, [policy.data]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body: Record<string, unknown> = { ssh_key_types: types, require_verified_ssh_keys: verified ? true : null };
    for (const [f] of numberFields) body[f] = numbers[f].trim() === '' ? null : Number(numbers[f]);
    const result = await save.run(body);
    if (!result.ok) return;
    setDone(`Saved the credential policy of ${who}.`);
    policy.reload();
    violations.reload();
  };

  const toggleType = (t: string) => {
    const current = types ?? [...ACCEPTED_KEY_TYPES];
    const next = current.includes(t) ? current.filter((x) => x !== t) : [...current, t];
    setTypes(next.length === ACCEPTED_KEY_TYPES.length ? null : next);
  };

  return (
    <>
      <Done>{done}</Done>
      <Section title="Limits">
        {policy.loading && !policy.data && <Loading what="the policy" />}
        <ErrorNotice error={policy.error} />
        {policy.data && (
          <form className="stack" onSubmit={submit}>
            {!canEdit && <p>Only owners and admins can change this policy; you can read it.</p>}
            {numberFields.map(([f, label, hint]) => (
              <div className="field" key={f}>
                <label htmlFor={`policy-${f}`}>{label}</label>
                <input
                  id={`policy-${f}`}
                  type="number"
                  inputMode="numeric"
                  disabled={!canEdit}
                  value={numbers[f]}
                  placeholder="No limit"
                  onChange={(e) => setNumbers({ ...numbers, [f]: e.target.value })}
                  aria-describedby={`policy-${f}-hint`}
                />
                <p className="hint" id={`policy-${f}-hint`}>
                  {hint} Empty: no limit.
                </p>
              </div>
            ))}
            <fieldset>
              <legend>Allowed SSH key types</legend>
              {ACCEPTED_KEY_TYPES.map((t) => (
                <label key={t} className="check">
                  <input type="checkbox" disabled={!canEdit} checked={types === null || types.includes(t)} onChange={() => toggleType(t)} /> <code>{t}</code>
                </label>
              ))}
            </fieldset>
            <label className="check">
              <input type="checkbox" disabled={!canEdit} checked={verified} onChange={(e) => setVerified(e.target.checked)} /> SSH servers accept only keys whose holder proved possession
            </label>
            <ErrorNotice error={save.error} />
            {canEdit && (
              <button type="submit" className="primary" disabled={save.busy}>
                Save policy
              </button>
            )}
          </form>
        )}
      </Section>
      <Section title="Credentials that break it">
        {violations.loading && !violations.data && <Loading what="the violations" />}
        <ErrorNotice error={violations.error} />
        {violations.data?.length === 0 && <p>Every credential fits the policy.</p>}
        {violations.data && violations.data.length > 0 && (
          <table>
            <caption>Credentials that break the policy of {who} (nothing was deleted)</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Name</th>
                <th scope="col">Fingerprint or start</th>
                <th scope="col">Rule</th>
              </tr>
            </thead>
            <tbody>
              {violations.data.map((v) => (
                <tr key={`${v.kind}:${v.id}`}>
                  <td data-label="Kind">{kinds[v.kind]}</td>
                  <td data-label="Name">{v.name}</td>
                  <td data-label="Fingerprint or start">
                    <code className="fingerprint">{v.fingerprint}</code>
                  </td>
                  <td data-label="Rule">
                    <span className="badge off">{v.rule}</span> <span className="hint">limit {String(v.limit)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

export function AccountPolicyPage() {
  const { account = '' } = useParams();
  const { can } = useAccountRole(account);
  return (
    <Page
      title={`Policy of ${account}`}
      intro="Limits on the credentials the account owns and on the SSH keys its SSH servers accept. The instance's policy holds too; where both set a limit, the stricter one wins."
    >
      <PolicyEditor path={`/v1/accounts/${seg(account)}/policy`} canEdit={can('policy.manage')} who={account} />
    </Page>
  );
}

export function AdminPolicyPage() {
  return (
    <Page title="Instance policy" intro="Limits that hold for every credential on this Keysmith instance, whoever owns it.">
      <PolicyEditor path="/v1/admin/policy" canEdit who="this instance" />
    </Page>
  );
}
