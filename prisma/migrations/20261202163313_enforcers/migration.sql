-- Enforcers: the systems that execute admin actions in customers' tenants and
-- ask, before each, whether the partner may. The operator creates them; each
-- holds its own API keys (rotated and revoked like a partner's) and may ask
-- about any partner, in every tenant (all_tenants) or only in `tenants`.

-- CreateTable
CREATE TABLE "enforcers" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "all_tenants" BOOLEAN NOT NULL DEFAULT false,
    "tenants" TEXT[],
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "enforcers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "enforcer_api_keys" (
    "id" UUID NOT NULL,
    "enforcer_id" UUID NOT NULL,
    "key_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3),
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "enforcer_api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "enforcer_api_keys_key_hash_key" ON "enforcer_api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "enforcer_api_keys_enforcer_id_idx" ON "enforcer_api_keys"("enforcer_id");

-- AddForeignKey
ALTER TABLE "enforcer_api_keys" ADD CONSTRAINT "enforcer_api_keys_enforcer_id_fkey" FOREIGN KEY ("enforcer_id") REFERENCES "enforcers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
