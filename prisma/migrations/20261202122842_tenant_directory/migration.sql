-- The tenant directory. Until now the first partner to name a domain fixed that
-- tenant's "admin" address, unchecked. Those addresses were set by partners, so
-- they become what they are: each relationship's unverified contact. No tenant
-- survives this migration as registered: the operator registers tenants again
-- (PUT /api/v1/admin/tenants/{domain}) or their admins prove the domain.

-- DropForeignKey
ALTER TABLE "relationships" DROP CONSTRAINT "relationships_tenant_domain_fkey";

-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "tenant_domain" TEXT;


-- AlterTable: the partner-given address and name move to the relationship as its contact
ALTER TABLE "relationships" ADD COLUMN     "contact_email" TEXT,
ADD COLUMN     "contact_name" TEXT;
UPDATE "relationships" AS r SET "contact_email" = t."admin_email", "contact_name" = t."name"
  FROM "tenants" AS t WHERE t."domain" = r."tenant_domain";
ALTER TABLE "relationships" ALTER COLUMN "contact_email" SET NOT NULL;

-- AlterTable: every link so far went to that contact
ALTER TABLE "invitations" ADD COLUMN     "forwarded_from_id" UUID,
ADD COLUMN     "recipient_email" TEXT;
UPDATE "invitations" AS i SET "recipient_email" = r."contact_email"
  FROM "relationships" AS r WHERE r."id" = i."relationship_id";
ALTER TABLE "invitations" ALTER COLUMN "recipient_email" SET NOT NULL;

-- The demotion is an audited change like any other
INSERT INTO "audit_events" ("idempotency_key", "tenant_domain", "actor_type", "action", "reason", "data", "created_at")
  SELECT 'migration-tenant-directory-' || t."domain", t."domain", 'system', 'tenant.adminDemotedToContact',
         'The address was set by a partner and never verified; it is now an unverified contact.',
         jsonb_build_object('email', t."admin_email", 'name', t."name"), CURRENT_TIMESTAMP
  FROM "tenants" AS t;

-- Partner-created tenants were never registered by anyone who controls them
DELETE FROM "tenants";

-- AlterTable
ALTER TABLE "tenants" DROP COLUMN "admin_email",
ADD COLUMN     "registered_via" TEXT NOT NULL,
ALTER COLUMN "name" SET NOT NULL;

-- CreateTable
CREATE TABLE "tenant_admins" (
    "id" UUID NOT NULL,
    "tenant_domain" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "added_via" TEXT NOT NULL,
    "added_by" TEXT,
    "verified_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenant_admins_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tenant_admin_invites" (
    "id" UUID NOT NULL,
    "tenant_domain" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "invited_by" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "accepted_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenant_admin_invites_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "domain_challenges" (
    "id" UUID NOT NULL,
    "domain" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "txt_value" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "verified_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "domain_challenges_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "tenant_admins_email_idx" ON "tenant_admins"("email");

-- CreateIndex
CREATE UNIQUE INDEX "tenant_admins_tenant_domain_email_key" ON "tenant_admins"("tenant_domain", "email");

-- CreateIndex
CREATE UNIQUE INDEX "tenant_admin_invites_token_hash_key" ON "tenant_admin_invites"("token_hash");

-- CreateIndex
CREATE INDEX "tenant_admin_invites_tenant_domain_idx" ON "tenant_admin_invites"("tenant_domain");

-- CreateIndex
CREATE UNIQUE INDEX "domain_challenges_token_hash_key" ON "domain_challenges"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "domain_challenges_txt_value_key" ON "domain_challenges"("txt_value");

-- CreateIndex
CREATE INDEX "domain_challenges_domain_idx" ON "domain_challenges"("domain");

-- CreateIndex
CREATE INDEX "audit_events_tenant_domain_created_at_idx" ON "audit_events"("tenant_domain", "created_at");

-- AddForeignKey
ALTER TABLE "tenant_admins" ADD CONSTRAINT "tenant_admins_tenant_domain_fkey" FOREIGN KEY ("tenant_domain") REFERENCES "tenants"("domain") ON DELETE CASCADE ON UPDATE CASCADE;
