// The record schema compiled with ajv at test time, with the options scripts/build-schemas.mjs uses.
// Why not the precompiled src/generated/record-validator.js: under vitest its `import x from "ajv/dist/runtime/ucs2length.js"`
// resolves to the function itself (CJS default interop), so `x.default` is undefined and every maxLength check throws.
// Plain Node is fine; `the precompiled validator` test below runs it there.
import fs from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { SchemaValidator } from '../../src/runbook/schema.js';

export const RECORD_SCHEMA_PATH = new URL('../../schemas/record.schema.json', import.meta.url);

export function compileRecordSchema(): SchemaValidator {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
  return ajv.compile(JSON.parse(fs.readFileSync(RECORD_SCHEMA_PATH, 'utf8'))) as unknown as SchemaValidator;
}
