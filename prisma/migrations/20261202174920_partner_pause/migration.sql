-- AlterTable
ALTER TABLE "partners" ADD COLUMN     "pause_reason" TEXT,
ADD COLUMN     "paused_at" TIMESTAMP(3);
