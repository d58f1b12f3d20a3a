import { defineConfig } from 'prisma/config';

// Only `prisma generate` uses the CLI here. Migrations are applied by
// src/infra/migrationRunner.ts (plain SQL, no Prisma at run time); writing and
// checking them (db new, db check) uses the schema engine as wasm.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
