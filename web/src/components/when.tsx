// Times as the API gives them (UTC), written the same way everywhere: 2026-11-22 14:05 UTC.
export function formatUtc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function When({ iso, never = '—' }: { iso: string | null | undefined; never?: string }) {
  if (!iso) return <>{never}</>;
  return <time dateTime={iso}>{formatUtc(iso)}</time>;
}
