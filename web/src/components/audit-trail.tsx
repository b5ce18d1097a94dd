// One audit trail, as every page that shows one does: an account's, the whole site's (site admins)
// and a user's own security log. Newest first, filtered by action and paged; the filter and page live
// in the address, so a view can be shared. Refused sign-ins and credentials stand out, with the
// address they came from and how many times they happened.
import { useSearchParams } from 'react-router';
import { auditActions } from '../../../src/modules/audit/audit.actions.ts';
import { call, pageInfo } from '../api/client.ts';
import type { AuditEvent } from '../api/types.ts';
import { formatUtc } from '../format.ts';
import { useLoad } from '../use-load.ts';
import { ErrorNotice, Loading } from './notices.tsx';
import { Pager } from './pager.tsx';
import { When } from './when.tsx';

const PER_PAGE = 25;

function describe(party: { type: string; label: string | null; id: number | string | null } | null): string {
  if (!party) return '—';
  return party.label ? `${party.label} (${party.type.replace(/_/g, ' ')})` : party.type.replace(/_/g, ' ');
}

const reasons = new Map([
  ['wrong_login_or_password', 'wrong login or password'],
  ['sign_in_throttled', 'too many failed sign-ins, asked to wait'],
  ['user_disabled', 'the user is disabled'],
]);

const times = (e: AuditEvent): string => (e.count > 1 ? `, ${e.count} times${e.last_occurred_at ? ` until ${formatUtc(e.last_occurred_at)}` : ''}` : '');

/** What a row means, in a sentence: refusals spelled out, other details as name: value. */
function detailsOf(e: AuditEvent): string {
  const details = e.details ?? {};
  if (e.action === 'auth.refused') {
    const reason = String(details.reason ?? 'refused');
    const why = reasons.get(reason) ?? reason.replace(/_/g, ' ');
    const login = typeof details.login === 'string' ? ` as ${details.login}` : '';
    const what = details.scheme === 'password' ? `Refused sign-in${login}` : `Refused credential (${String(details.scheme ?? 'unknown')})${login}`;
    return `${what}: ${why}${times(e)}`;
  }
  const parts = Object.entries(details).map(([name, value]) => `${name.replace(/_/g, ' ')}: ${String(value)}`);
  return parts.length > 0 ? parts.join('; ') + times(e) : times(e).replace(/^, /, '') || '—';
}

export function AuditTrail({ path, account, caption, what }: { path: string; account?: string; caption: string; what: string }) {
  const [params, setParams] = useSearchParams();
  const action = params.get('action') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const events = useLoad(async () => {
    const { data, headers } = await call<AuditEvent[]>('GET', path, { account, query: { action, page, per_page: PER_PAGE } });
    return { items: data, ...pageInfo(headers) };
  }, [path, account, action, page]);

  const show = (next: { action?: string; page?: number }) => {
    const merged = { action, page, ...next };
    const search = new URLSearchParams();
    if (merged.action) search.set('action', merged.action);
    if (merged.page > 1) search.set('page', String(merged.page));
    setParams(search);
  };

  return (
    <>
      <div className="field inline">
        <label htmlFor="audit-action">Action</label>
        <select id="audit-action" value={action} onChange={(e) => show({ action: e.target.value, page: 1 })}>
          <option value="">All actions</option>
          {auditActions.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      {events.loading && !events.data && <Loading what={what} />}
      <ErrorNotice error={events.error} />
      {events.data?.items.length === 0 && <p>No events{action ? ` with the action ${action}` : ''}.</p>}
      {events.data && events.data.items.length > 0 && (
        <table className="audit">
          <caption>
            {caption}
            {action ? `: ${action}` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">By</th>
              <th scope="col">Target</th>
              <th scope="col">From</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {events.data.items.map((e) => (
              <tr key={e.id} className={e.action === 'auth.refused' ? 'refused' : undefined}>
                <td data-label="When">
                  <When iso={e.occurred_at} />
                </td>
                <td data-label="Action">
                  <code>{e.action}</code>
                  {e.action === 'auth.refused' && (
                    <>
                      {' '}
                      <span className="badge refused">Refused</span>
                    </>
                  )}
                </td>
                <td data-label="By">{describe(e.actor)}</td>
                <td data-label="Target">{describe(e.target)}</td>
                <td data-label="From">{e.remote_addr ?? '—'}</td>
                <td data-label="Details">{detailsOf(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {events.data && (events.data.items.length > 0 || page > 1) && (
        <Pager label={`${caption}: pages`} page={page} perPage={PER_PAGE} total={events.data.total} hasNext={events.data.hasNext} onPage={(p) => show({ page: p })} />
      )}
    </>
  );
}
