import { defineConfig } from 'prisma/config';

// Only `prisma generate` uses the CLI here; migrations run through
// scripts/db (the schema engine as wasm), which needs no native binary.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
