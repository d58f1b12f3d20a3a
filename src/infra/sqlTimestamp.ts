import { Prisma } from '../generated/prisma/client.js';

/**
 * A timestamp column's value in raw SQL, from an ISO string or null: stored as UTC without a
 * zone, as Prisma writes them, so the model API reads back the instant raw SQL wrote.
 */
export const utcTimestamp = (iso: string | null) => Prisma.sql`(${iso}::timestamptz AT TIME ZONE 'UTC')`;
