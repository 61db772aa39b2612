import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateEnvelopeModule, generateIndex, generateModule, moduleNameFor } from './typegen';

export const REPO_ROOT = resolve(__dirname, '../..');
// SCHEMAS_DIR lets the gate check a scratch copy (its own tests do).
export const SCHEMAS_DIR = process.env.SCHEMAS_DIR ?? join(REPO_ROOT, 'schemas');
export const HISTORY_DIR = join(SCHEMAS_DIR, 'history');
export const GENERATED_DIR = join(REPO_ROOT, 'libs/contracts/src/generated');

export interface SchemaFile {
  /** File name without extension, e.g. `order-placed`. */
  id: string;
  path: string;
  text: string;
}

export function readSchemaFiles(dir = SCHEMAS_DIR): SchemaFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()
    .map((f) => ({ id: f.replace(/\.avsc$/, ''), path: join(dir, f), text: readFileSync(join(dir, f), 'utf8') }));
}

/** Every generated file, by path relative to GENERATED_DIR, as `schemas:gen` writes them. */
export function expectedGeneratedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const schemas = readSchemaFiles();
  for (const schema of schemas) {
    files.set(`${moduleNameFor(schema.id + '.avsc')}.ts`, generateModule(schema.text, `schemas/${schema.id}.avsc`));
  }
  files.set('event-envelope.ts', generateEnvelopeModule());
  files.set('index.ts', generateIndex(['event-envelope', ...schemas.map((s) => s.id)]));
  return files;
}
