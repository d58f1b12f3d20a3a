-- The partner mail quota (PARTNER_MAIL_PER_HOUR) moves from a Redis counter to the partner's row:
-- an offer charges it in the same statement that inserts the offer and takes its place under the
-- pending-invitation cap, so a refused or failed offer charges nothing and a replayed one (the
-- same Idempotency-Key) is not charged again. `mail_hour` is the clock hour (ms since the epoch
-- / 3,600,000) that `mail_sent` counts; a new hour starts the count again.

-- AlterTable
ALTER TABLE "partners" ADD COLUMN     "mail_hour" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "mail_sent" INTEGER NOT NULL DEFAULT 0;
