-- Partner API keys move to a table of their own so a partner can hold more
-- than one (rotation with a grace period) and one can be revoked. Every
-- existing key is carried over unchanged: partners keep working after the
-- upgrade. Customer sessions move to the server (the old signed cookies are
-- not read any more, so everyone signed in signs in again once).

-- CreateTable
CREATE TABLE "partner_api_keys" (
    "id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "key_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3),
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "partner_api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customer_sessions" (
    "id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "tenant_domain" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "csrf" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "last_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "customer_sessions_pkey" PRIMARY KEY ("id")
);

-- Existing keys: same hash, same prefix, no expiry.
INSERT INTO "partner_api_keys" ("id", "partner_id", "key_hash", "prefix", "created_at")
SELECT gen_random_uuid(), "id", "api_key_hash", "api_key_prefix", "created_at" FROM "partners";

-- DropIndex
DROP INDEX "partners_api_key_hash_key";

-- AlterTable
ALTER TABLE "partners" DROP COLUMN "api_key_hash",
DROP COLUMN "api_key_prefix";

-- CreateIndex
CREATE UNIQUE INDEX "partner_api_keys_key_hash_key" ON "partner_api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "partner_api_keys_partner_id_idx" ON "partner_api_keys"("partner_id");

-- CreateIndex
CREATE UNIQUE INDEX "customer_sessions_token_hash_key" ON "customer_sessions"("token_hash");

-- CreateIndex
CREATE INDEX "customer_sessions_tenant_domain_email_idx" ON "customer_sessions"("tenant_domain", "email");

-- CreateIndex
CREATE INDEX "sign_in_tokens_tenant_domain_email_created_at_idx" ON "sign_in_tokens"("tenant_domain", "email", "created_at");

-- AddForeignKey
ALTER TABLE "partner_api_keys" ADD CONSTRAINT "partner_api_keys_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE ON UPDATE CASCADE;
