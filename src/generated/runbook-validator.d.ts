// Types for the validator that scripts/build-schemas.mjs generates from schemas/runbook.schema.json.
import type { SchemaValidator } from '../runbook/schema.js';
export declare const validate: SchemaValidator;
export default validate;
