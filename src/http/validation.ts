// Two validators: JSON bodies are taken exactly as sent (no type coercion, no silently dropped
// fields); query strings, path segments and headers arrive as text, so they are coerced.
import { Ajv, type Options } from 'ajv';
import formats from 'ajv-formats';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ removeAdditional: false, useDefaults: true, allErrors: false, strict: false, ...options });
  // ajv-formats is CommonJS; under NodeNext its function sits on `default`.
  (formats as unknown as { default: (ajv: Ajv) => void }).default(ajv);
  return ajv;
}

/** The one spelling of an id in a path: digits, no sign, no leading zero, no spaces (its size is the schema's maximum). */
export const CANONICAL_ID = /^[1-9][0-9]*$/;

interface ParamsSchema {
  properties?: Record<string, { type?: unknown }>;
}

/** The path segments a params schema declares as integers. */
function integerParams(schema: ParamsSchema): string[] {
  const properties = schema.properties ?? {};
  return Object.keys(properties).filter((key) => properties[key]?.type === 'integer');
}

/**
 * `unknownFields: 'drop'` is GitHub's rule (an unknown field is ignored, a wrong type refused), which
 * the /api/v3 dialect follows because Octokit sends any extra option it is given in the body.
 */
export function createValidatorCompiler({ unknownFields = 'refuse' }: { unknownFields?: 'refuse' | 'drop' } = {}): FastifySchemaCompiler<unknown> {
  const removeAdditional = unknownFields === 'drop';
  const strict = makeAjv({ coerceTypes: false, removeAdditional });
  const coercing = makeAjv({ coerceTypes: 'array', removeAdditional });
  return ({ schema, httpPart }) => {
    const validate = (httpPart === 'body' ? strict : coercing).compile(schema as object);
    const ids = httpPart === 'params' ? integerParams(schema as ParamsSchema) : [];
    if (ids.length === 0) return validate;
    // Coercion alone would let " 145", "0x91", "145.0", "+145", "0145" and "1e2" reach a key: an id in
    // a path is accepted only as canonical digits (README: "Ids in paths").
    const checked: { (data: unknown): boolean; errors?: FastifySchemaValidationError[] | null } = (data: unknown) => {
      const params = data as Record<string, unknown>;
      for (const key of ids) {
        const raw = Object.hasOwn(params, key) ? params[key] : undefined;
        if (typeof raw !== 'string') continue;
        if (!CANONICAL_ID.test(raw)) {
          checked.errors = [{ keyword: 'canonicalId', instancePath: `/${key}`, schemaPath: '', params: {}, message: 'is not a canonical id' }];
          return false;
        }
        if (!Number.isSafeInteger(Number(raw))) {
          checked.errors = [{ keyword: 'maximum', instancePath: `/${key}`, schemaPath: '', params: { limit: Number.MAX_SAFE_INTEGER }, message: 'is too large' }];
          return false;
        }
      }
      const ok = validate(data) as boolean;
      checked.errors = validate.errors as FastifySchemaValidationError[] | null | undefined;
      return ok;
    };
    return checked;
  };
}
