// A key's expiry in a table cell: the date (or "Never"), and a badge once it has passed; and the
// badge of the policy rule a credential breaks.
import { When } from './when.tsx';

export function Expiry({ iso, expired }: { iso: string | null; expired: boolean }) {
  return (
    <>
      <When iso={iso} never="Never" />
      {expired && (
        <>
          {' '}
          <span className="badge off">Expired</span>
        </>
      )}
    </>
  );
}

/** The policy rule a credential breaks, beside it; nothing when it fits. */
export function PolicyBadge({ rule }: { rule: string | undefined }) {
  if (!rule) return null;
  return (
    <>
      {' '}
      <span className="badge off" title="This credential breaks the account's credential policy; see the Policy page.">
        breaks {rule}
      </span>
    </>
  );
}
