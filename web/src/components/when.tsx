import { formatUtc } from '../format.ts';

export function When({ iso, never = '—' }: { iso: string | null | undefined; never?: string }) {
  if (!iso) return <>{never}</>;
  return <time dateTime={iso}>{formatUtc(iso)}</time>;
}
