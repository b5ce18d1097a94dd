// A key's expiry in a table cell: the date (or "Never"), and a badge once it has passed.
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
