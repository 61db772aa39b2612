import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedGeneratedFiles, GENERATED_DIR } from './schema-files';

describe('generated contract types', () => {
  it('match schemas/*.avsc (run `npm run schemas:gen` after changing a schema)', () => {
    const expected = expectedGeneratedFiles();
    const onDisk = existsSync(GENERATED_DIR) ? readdirSync(GENERATED_DIR).sort() : [];
    expect(onDisk).toEqual([...expected.keys()].sort());
    for (const [file, content] of expected) {
      expect({ file, content: readFileSync(join(GENERATED_DIR, file), 'utf8') }).toEqual({ file, content });
    }
  });
});
