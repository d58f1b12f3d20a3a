#!/bin/sh
# Stand-in for Prisma's native schema-engine binary (PRISMA_SCHEMA_ENGINE_BINARY,
# set by `npm run db:generate`). The Prisma CLI insists on finding, or else
# downloading, that binary before any command, even `prisma generate`, which
# never runs it; this machine cannot download it. Migrations are applied by
# src/infra/migrationRunner.ts and written/checked with the WebAssembly schema
# engine (scripts/db.ts). The message goes to
# stdout because that is what the Prisma CLI shows when an engine fails.
echo "partnerflow: no native Prisma schema engine here; run migrations with \`npm run db:migrate\` (scripts/db.ts)"
exit 1
