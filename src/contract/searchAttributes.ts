import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Typed search attributes the workflow upserts on every transition; operators
// filter on them in the Web UI. The dev server must have them registered.
export const RelationshipStatusKey = defineSearchAttributeKey('RelationshipStatus', SearchAttributeType.KEYWORD);
export const PartnerIdKey = defineSearchAttributeKey('PartnerId', SearchAttributeType.KEYWORD);
export const TenantDomainKey = defineSearchAttributeKey('TenantDomain', SearchAttributeType.KEYWORD);

export const searchAttributeKeys = [RelationshipStatusKey, PartnerIdKey, TenantDomainKey] as const;
