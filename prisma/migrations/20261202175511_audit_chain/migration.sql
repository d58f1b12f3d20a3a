-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "chain" TEXT,
ADD COLUMN     "hash" TEXT,
ADD COLUMN     "prev_hash" TEXT,
ADD COLUMN     "seq" BIGINT;

-- CreateTable
CREATE TABLE "audit_chain_heads" (
    "chain" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "audit_chain_heads_pkey" PRIMARY KEY ("chain")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_chain_seq_key" ON "audit_events"("chain", "seq");

-- Events written before this migration keep the four columns null and stay
-- outside the chains: each chain starts at seq 1 with the first event written
-- after it (README, "Audit export"). No CHECK ties the four together: the
-- schema engine behind `db new`/`db check` cannot read a CHECK constraint here
-- (it panics); src/audit/auditLog.ts is the one writer and always sets all four.
