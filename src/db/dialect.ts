// Everything that differs between SQLite and PostgreSQL lives here: booleans, timestamps,
// unique-violation detection. Repositories stay dialect-free.
import {
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type SelectQueryNode,
  type UnknownRow,
  type ValueNode,
} from 'kysely';
import type { CustomTypesConfig } from 'pg';
import pg from 'pg';

export type DialectKind = 'sqlite' | 'postgres';

const ROW_LOCKS = new Set(['ForUpdate', 'ForNoKeyUpdate', 'ForShare', 'ForKeyShare', 'NoWait', 'SkipLocked']);

/**
 * Makes queries written for PostgreSQL run on SQLite: better-sqlite3 cannot bind JavaScript booleans
 * (stored as 0/1), and SQLite has no row locks (`FOR UPDATE` is dropped: its write transactions
 * already run one at a time).
 */
class SqliteCompat extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    const value = node.value;
    return typeof value === 'boolean' ? { ...node, value: value ? 1 : 0 } : node;
  }

  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return { ...node, values: node.values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v)) };
  }

  protected override transformSelectQuery(node: SelectQueryNode): SelectQueryNode {
    const transformed = super.transformSelectQuery(node);
    if (!transformed.endModifiers) return transformed;
    const endModifiers = transformed.endModifiers.filter((m) => !(m.kind === 'SelectModifierNode' && m.modifier && ROW_LOCKS.has(m.modifier)));
    return { ...transformed, endModifiers };
  }
}

export class SqliteCompatPlugin implements KyselyPlugin {
  readonly #transformer = new SqliteCompat();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

const TIMESTAMPTZ_OID = 1184;
const TIMESTAMP_OID = 1114;
const INT8_OID = 20;

/** PostgreSQL hands timestamps back as the same ISO strings SQLite stores, and counts as numbers. */
export const postgresTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === TIMESTAMPTZ_OID || oid === TIMESTAMP_OID) return (value: string) => new Date(value).toISOString();
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  }) as CustomTypesConfig['getTypeParser'],
};

/** True when a write failed because a unique constraint or primary key already holds the value. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** True when a write named a row that does not exist (any more): a foreign key found nothing. */
export function isForeignKeyViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * True when PostgreSQL refused text it cannot store: a NUL byte (22021) or a character the
 * database encoding lacks (22P05). SQLite stores both. That is bad input, not our failure.
 */
export function isUnstorableText(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '22021' || code === '22P05';
}

/** Reads a boolean column: PostgreSQL gives a boolean, SQLite an integer. */
export const readBool = (value: boolean | number | null | undefined): boolean => Boolean(value);
