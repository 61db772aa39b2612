import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HISTORY_DIR } from './schema-files';

/** Earlier released versions of one schema, kept in git as schemas/history/<id>/v<N>.avsc. */
export interface SchemaVersion {
  version: number;
  path: string;
  text: string;
}

export function historyOf(schemaId: string, historyDir = HISTORY_DIR): SchemaVersion[] {
  const dir = join(historyDir, schemaId);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^v(\d+)\.avsc$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), path: join(dir, m[0]), text: readFileSync(join(dir, m[0]), 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

/** Same schema, whatever the whitespace. */
export function sameSchema(a: string, b: string): boolean {
  return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
}
