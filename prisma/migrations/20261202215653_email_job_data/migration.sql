-- AlterTable
ALTER TABLE "email_messages" ADD COLUMN     "job" JSONB;
