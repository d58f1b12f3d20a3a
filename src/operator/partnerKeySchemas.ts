import { PARTNER_KEYS } from '../partners/partnerKeys.js';
import { apiKeyListSchema, apiKeySchema, holderIdParamSchema, keyRefSchemaFor, keyRotatedSchemaFor } from './keySchemas.js';

// A partner's keys, in the shapes every kind of key shares (keySchemas.ts).

export { rotateKeySchema } from './keySchemas.js';

export const partnerIdParamSchema = holderIdParamSchema;

/** A partner key by its id, or its prefix (`pf_` and 7 characters). */
export const keyRefSchema = keyRefSchemaFor(PARTNER_KEYS);

export const partnerKeySchema = apiKeySchema;

export const partnerKeyListSchema = apiKeyListSchema;

export const keyRotatedSchema = keyRotatedSchemaFor('partnerId');
