// npm run schemas:gen — regenerates libs/contracts/src/generated from schemas/*.avsc.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_DIR, expectedGeneratedFiles } from './schema-files';

const files = expectedGeneratedFiles();
mkdirSync(GENERATED_DIR, { recursive: true });
for (const stale of readdirSync(GENERATED_DIR)) {
  if (!files.has(stale)) rmSync(join(GENERATED_DIR, stale));
}
for (const [name, content] of files) writeFileSync(join(GENERATED_DIR, name), content);
console.log(`generated ${files.size} files in ${GENERATED_DIR}`);
