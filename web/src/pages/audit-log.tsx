// Account → Audit log: every change, key fetch and refused sign-in of the account, newest first,
// filtered by action and paged. The filter and page live in the address, so a view can be shared.
import { useSearchParams, useParams } from 'react-router';
import { auditActions } from '../../../src/modules/audit/audit.actions.ts';
import { call, pageInfo } from '../api/client.ts';
import type { AuditEvent } from '../api/types.ts';
import { ErrorNotice, Loading } from '../components/notices.tsx';
import { Page, Section } from '../components/page.tsx';
import { Pager } from '../components/pager.tsx';
import { When } from '../components/when.tsx';
import { useLoad } from '../use-load.ts';

const PER_PAGE = 25;

function describe(party: { type: string; label: string | null; id: number | string | null } | null): string {
  if (!party) return '—';
  return party.label ? `${party.label} (${party.type.replace(/_/g, ' ')})` : party.type.replace(/_/g, ' ');
}

export function AuditLogPage() {
  const { account = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const action = params.get('action') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const events = useLoad(async () => {
    const { data, headers } = await call<AuditEvent[]>('GET', '/v1/audit-events', { account, query: { action, page, per_page: PER_PAGE } });
    return { items: data, ...pageInfo(headers) };
  }, [account, action, page]);

  const show = (next: { action?: string; page?: number }) => {
    const merged = { action, page, ...next };
    const search = new URLSearchParams();
    if (merged.action) search.set('action', merged.action);
    if (merged.page > 1) search.set('page', String(merged.page));
    setParams(search);
  };

  return (
    <Page title={`Audit log of ${account}`} intro="Every change to the account, every fetch of private key material, and every refused sign-in, newest first.">
      <Section title="Events">
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
        {events.loading && !events.data && <Loading what="the audit log" />}
        <ErrorNotice error={events.error} />
        {events.data?.items.length === 0 && <p>No events{action ? ` with the action ${action}` : ''}.</p>}
        {events.data && events.data.items.length > 0 && (
          <>
            <table>
              <caption>
                Audit events of {account}
                {action ? `: ${action}` : ''}
              </caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">By</th>
                  <th scope="col">Target</th>
                  <th scope="col">From</th>
                </tr>
              </thead>
              <tbody>
                {events.data.items.map((e) => (
                  <tr key={e.id}>
                    <td data-label="When">
                      <When iso={e.occurred_at} />
                    </td>
                    <td data-label="Action">
                      <code>{e.action}</code>
                    </td>
                    <td data-label="By">{describe(e.actor)}</td>
                    <td data-label="Target">{describe(e.target)}</td>
                    <td data-label="From">{e.remote_addr ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
        {events.data && (events.data.items.length > 0 || page > 1) && (
          <Pager label="Audit log pages" page={page} perPage={PER_PAGE} total={events.data.total} hasNext={events.data.hasNext} onPage={(p) => show({ page: p })} />
        )}
      </Section>
    </Page>
  );
}
