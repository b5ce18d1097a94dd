// What master-key rotation and the start-up check need from each module that keeps sealed values:
// the module owns its table and its associated data; rotation only re-wraps.
export interface SealedValue<Id> {
  id: Id;
  sealed: string;
  /** The associated data the value was sealed with (the record's identity). */
  aad: string;
}

export interface SealedValues<Id = number> {
  listSealed(): Promise<SealedValue<Id>[]>;
  /** The record's current sealed value, or undefined if it was deleted meanwhile. */
  findSealed(id: Id): Promise<string | undefined>;
  /** Writes `after` if the record still holds `before` (compare-and-swap). */
  replaceSealed(id: Id, before: string, after: string): Promise<boolean>;
  /** The distinct master key ids that sealed this table's values, read from their prefixes only (checked at start-up). */
  masterKeyIds(): Promise<string[]>;
}
