// Previous / next for the API's paginated lists (GitHub's page and per_page, Link and X-Total-Count).
export function Pager({ page, hasNext, total, perPage, onPage, label }: { page: number; hasNext: boolean; total: number | null; perPage: number; onPage: (page: number) => void; label: string }) {
  const pages = total === null ? null : Math.max(1, Math.ceil(total / perPage));
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous page
      </button>
      <span aria-live="polite">
        Page {page}
        {pages !== null && ` of ${pages}`}
        {total !== null && ` (${total} in all)`}
      </span>
      <button type="button" disabled={!hasNext} onClick={() => onPage(page + 1)}>
        Next page
      </button>
    </nav>
  );
}
