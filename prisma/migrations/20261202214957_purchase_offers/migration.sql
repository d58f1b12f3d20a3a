-- AlterTable
ALTER TABLE "partners" ADD COLUMN     "provisioner" TEXT NOT NULL DEFAULT 'local';

-- CreateTable
CREATE TABLE "subscriptions" (
    "id" UUID NOT NULL,
    "relationship_id" UUID NOT NULL,
    "product" TEXT NOT NULL,
    "seats" INTEGER NOT NULL,
    "term" TEXT NOT NULL,
    "price_amount" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "auto_renew" BOOLEAN NOT NULL,
    "status" TEXT NOT NULL,
    "agreed_at" TIMESTAMP(3),
    "agreed_by" TEXT,
    "requested_at" TIMESTAMP(3),
    "deadline_at" TIMESTAMP(3),
    "completed_at" TIMESTAMP(3),
    "external_ref" TEXT,
    "failure_reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_relationship_id_key" ON "subscriptions"("relationship_id");

-- AddForeignKey
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_relationship_id_fkey" FOREIGN KEY ("relationship_id") REFERENCES "relationships"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
