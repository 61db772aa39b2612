// npm run schemas:snapshot — records each changed schema as its next version in schemas/history/,
// after schemas:check passed, so later changes are checked against it too (BACKWARD_TRANSITIVE).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyOf, sameSchema } from './history';
import { HISTORY_DIR, readSchemaFiles } from './schema-files';

for (const schema of readSchemaFiles()) {
  const versions = historyOf(schema.id);
  const latest = versions[versions.length - 1];
  if (latest && sameSchema(latest.text, schema.text)) continue;
  const next = (latest?.version ?? 0) + 1;
  mkdirSync(join(HISTORY_DIR, schema.id), { recursive: true });
  writeFileSync(join(HISTORY_DIR, schema.id, `v${next}.avsc`), schema.text);
  console.log(`${schema.id}: recorded v${next}`);
}
