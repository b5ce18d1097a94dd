// What user API keys and service API keys share in the console: the form that creates one (name,
// expiry, scopes, and a role for service keys) and the table that lists them.
import { useState, type FormEvent, type ReactNode } from 'react';
import { scopeNames } from '../../../src/modules/access/roles.ts';
import type { ApiKey, Created, Scope, ServiceKey, ServiceRole } from '../api/types.ts';
import { useAction } from '../use-load.ts';
import type { ApiError } from '../api/client.ts';
import { ConfirmButton } from './confirm.tsx';
import { roleDescription, roleName } from '../format.ts';
import { ErrorNotice } from './notices.tsx';
import { When } from './when.tsx';
import { PolicyBadge } from './expiry.tsx';
import { ActionsHeader } from './actions-header.tsx';

const scopeHelp: Record<Scope, string> = {
  'read:public_key': 'List and read SSH keys',
  'write:public_key': 'Also add SSH keys',
  'admin:public_key': 'Also delete SSH keys',
  'read:project': 'Read projects, their public keys and members',
  'write:project': 'Also create and delete projects and their keys',
  'admin:account': 'Manage members and service keys; read the audit log',
};

const expiryChoices = [
  ['never', 'Never'],
  ['7', 'In 7 days'],
  ['30', 'In 30 days'],
  ['90', 'In 90 days'],
  ['365', 'In a year'],
  ['date', 'On a date…'],
] as const;

export interface NewKey {
  name: string;
  expires_at?: string;
  scopes?: Scope[];
  role?: ServiceRole;
  projects?: string[];
}

/** Today in UTC as the date input writes it: the earliest day a key may expire (at its end). */
const todayUtc = (): string => new Date().toISOString().slice(0, 10);

function expiresAt(choice: string, date: string): string | undefined {
  if (choice === 'never') return undefined;
  if (choice === 'date') return date ? `${date}T23:59:59Z` : undefined;
  return new Date(Date.now() + Number(choice) * 86_400_000).toISOString();
}

/**
 * Creating a key, for both kinds: the new key (with its one-time secret) is held until the person
 * dismisses it, and `created` runs so the page can reload its list.
 */
export function useNewKey<K extends ApiKey>(create: (body: NewKey) => Promise<Created<K>>, created: () => void) {
  const [shown, setShown] = useState<Created<K> | undefined>();
  const action = useAction(create);
  const onCreate = async (body: NewKey): Promise<boolean> => {
    const result = await action.run(body);
    if (!result.ok) return false;
    setShown(result.value);
    created();
    return true;
  };
  return { shown, dismiss: () => setShown(undefined), onCreate, busy: action.busy, error: action.error };
}

export function NewKeyForm({
  roles,
  busy,
  error,
  onCreate,
  roleExtras,
}: {
  roles?: readonly ServiceRole[];
  /** More fields for the chosen role (a runner key's projects), shown under the role. */
  roleExtras?: (role: ServiceRole | '') => ReactNode;
  busy: boolean;
  error: ApiError | undefined;
  onCreate: (key: NewKey) => Promise<boolean>;
}) {
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState('never');
  const [date, setDate] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [role, setRole] = useState<ServiceRole | ''>('');
  const [dateRefused, setDateRefused] = useState<string | undefined>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await onCreate({
      name: name.trim(),
      expires_at: expiresAt(expiry, date),
      ...(scopes.length > 0 ? { scopes } : {}),
      ...(roles && role ? { role } : {}),
    });
    if (created) {
      setName('');
      setScopes([]);
      setExpiry('never');
      setDate('');
    }
  };

  return (
    <form className="stack" onSubmit={submit}>
      <div className="field">
        <label htmlFor="key-name">Name</label>
        <input id="key-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} aria-describedby="key-name-hint" />
        <p className="hint" id="key-name-hint">
          What the key is for, e.g. “laptop” or “deploy bot”.
        </p>
      </div>
      {roles && (
        <div className="field">
          <label htmlFor="key-role">Role</label>
          <select id="key-role" required value={role} onChange={(e) => setRole(e.target.value as ServiceRole)} aria-describedby="key-role-hint">
            <option value="">Choose a role…</option>
            {roles.map((r) => (
              <option key={r} value={r}>
                {roleName(r)}
              </option>
            ))}
          </select>
          <ul className="hint role-list" id="key-role-hint" aria-label="What each role can do">
            {roles.map((r) => (
              <li key={r}>
                <code>{roleName(r)}</code>: {roleDescription(r)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {roles && roleExtras?.(role)}
      <div className="field">
        <label htmlFor="key-expiry">Expires</label>
        <select id="key-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
          {expiryChoices.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      {expiry === 'date' && (
        <div className="field">
          <label htmlFor="key-expiry-date">Expiry date (the key stops working at the end of this day, UTC)</label>
          <input
            id="key-expiry-date"
            type="date"
            required
            min={todayUtc()}
            value={date}
            aria-describedby="key-expiry-date-hint"
            aria-invalid={dateRefused ? true : undefined}
            onChange={(e) => {
              setDate(e.target.value);
              setDateRefused(undefined);
            }}
            onInvalid={(e) => {
              // The browser refuses the form; say why in words on the page, not only in its bubble.
              e.preventDefault();
              const validity = e.currentTarget.validity;
              setDateRefused(
                validity.rangeUnderflow
                  ? `The expiry date must be today (${todayUtc()}, UTC) or later: a key cannot expire in the past.`
                  : 'Choose the day the key stops working, or another expiry above.',
              );
              e.currentTarget.focus();
            }}
          />
          <p className="hint" id="key-expiry-date-hint">
            Today ({todayUtc()}, UTC) or a later day.
          </p>
          {dateRefused && (
            <p className="notice error" role="alert">
              {dateRefused}
            </p>
          )}
        </div>
      )}
      <fieldset>
        <legend>Scopes (optional)</legend>
        <p className="hint">Tick scopes to narrow the key below its role. With none ticked, the key can do everything its role allows.</p>
        {scopeNames.map((scope) => (
          <div className="check" key={scope}>
            <input type="checkbox" id={`scope-${scope}`} checked={scopes.includes(scope)} onChange={(e) => setScopes((now) => (e.target.checked ? [...now, scope] : now.filter((s) => s !== scope)))} />
            <label htmlFor={`scope-${scope}`}>
              <code>{scope}</code> — {scopeHelp[scope]}
            </label>
          </div>
        ))}
      </fieldset>
      <ErrorNotice error={error} />
      <button type="submit" className="primary" disabled={busy}>
        Create API key
      </button>
    </form>
  );
}

const graceChoices = [
  ['0', 'At once'],
  ['3600', 'In 1 hour'],
  ['86400', 'In 1 day'],
  ['604800', 'In 7 days'],
] as const;

/**
 * Rotate: asks how long the old key keeps working, then makes its successor. One Idempotency-Key
 * per opening of the dialog, so a second click or a retried request gets the same new key back.
 */
function RotateButton<K extends ApiKey>({ apiKey, onRotate }: { apiKey: K; onRotate: (key: K, graceSeconds: number, idempotencyKey: string) => Promise<unknown> }) {
  const [grace, setGrace] = useState('86400');
  const [attempt, setAttempt] = useState('');
  const id = `grace-${apiKey.id}`;
  return (
    <ConfirmButton
      label="Rotate"
      labelFor={`key ${apiKey.name}`}
      title={`Rotate the API key “${apiKey.name}”?`}
      confirmLabel="Rotate key"
      danger={false}
      onOpen={() => {
        setGrace('86400');
        setAttempt(crypto.randomUUID());
      }}
      onConfirm={() => onRotate(apiKey, Number(grace), attempt)}
    >
      <p>A new key with the same name, role and scopes is made and shown once. Move what uses this key to the new one before the old one stops working.</p>
      <div className="field">
        <label htmlFor={id}>The old key stops working</label>
        <select id={id} value={grace} onChange={(e) => setGrace(e.target.value)}>
          {graceChoices.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
    </ConfirmButton>
  );
}

/** Turns a key disabled for going unused back on. */
function EnableButton<K extends ApiKey>({ apiKey, onEnable }: { apiKey: K; onEnable: (key: K) => Promise<unknown> }) {
  const action = useAction(() => onEnable(apiKey));
  return (
    <>
      <button type="button" disabled={action.busy} aria-label={`Enable key ${apiKey.name}`} onClick={() => void action.run()}>
        Enable
      </button>
      <ErrorNotice error={action.error} />
    </>
  );
}

export function KeyTable<K extends ApiKey>({
  keys,
  caption,
  onDelete,
  onRotate,
  onEnable,
  policyRules,
}: {
  keys: K[];
  caption: string;
  onDelete: (key: K) => Promise<unknown>;
  /** Makes the key's successor; the page shows its secret once. */
  onRotate?: (key: K, graceSeconds: number, idempotencyKey: string) => Promise<unknown>;
  /** Enables a key disabled for going unused. */
  onEnable?: (key: K) => Promise<unknown>;
  /** The policy rule each key breaks, by id (service keys: the account's Policy page lists them). */
  policyRules?: ReadonlyMap<number, string>;
}) {
  const service = keys.some((k) => 'role' in k);
  if (keys.length === 0) return <p>No API keys yet.</p>;
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Starts with</th>
          {service && <th scope="col">Role</th>}
          <th scope="col">Scopes</th>
          <th scope="col">Last used</th>
          <th scope="col">Expires</th>
          <ActionsHeader />
        </tr>
      </thead>
      <tbody>
        {keys.map((key) => (
          <tr key={key.id}>
            <td data-label="Name">
              {key.name}
              <PolicyBadge rule={policyRules?.get(key.id)} />
              {key.stops_working_at !== null && (
                <p className="hint">
                  Rotated: {Date.parse(key.stops_working_at) <= Date.now() ? 'stopped working at' : 'works until'} <When iso={key.stops_working_at} never="" />
                </p>
              )}
              {key.rotated_from !== null && <p className="hint">Replaces an older key (rotated)</p>}
              {key.disabled_at !== null && (
                <p className="hint">
                  Disabled <When iso={key.disabled_at} never="" /> because it went unused: it does not work until enabled again.
                </p>
              )}
            </td>
            <td data-label="Starts with">
              <code>{key.start}…</code>
            </td>
            {service && <td data-label="Role">{roleName((key as unknown as ServiceKey).role)}</td>}
            <td data-label="Scopes">{key.scopes ? key.scopes.join(', ') : 'all of its role'}</td>
            <td data-label="Last used">
              <When iso={key.last_used_at} never="Never" />
            </td>
            <td data-label="Expires">
              <When iso={key.expires_at} never="Never" />
            </td>
            <td data-label="Actions">
              {onEnable && key.disabled_at !== null && <EnableButton apiKey={key} onEnable={onEnable} />}
              {onRotate && key.rotated_to === null && key.stops_working_at === null && <RotateButton apiKey={key} onRotate={onRotate} />}
              <ConfirmButton label="Delete" labelFor={`key ${key.name}`} title={`Delete the API key “${key.name}”?`} confirmLabel="Delete key" onConfirm={() => onDelete(key)}>
                <p>Anything using this key stops working at once. This cannot be undone.</p>
              </ConfirmButton>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
