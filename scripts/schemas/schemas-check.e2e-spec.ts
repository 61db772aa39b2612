/**
 * The compatibility gate as CI runs it: `npm run schemas:check` on the real schemas passes; on a
 * scratch copy where OrderPlaced gains a required field without a default it fails, naming the field,
 * both in the local check and at the registry's compatibility endpoint.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, SCHEMAS_DIR } from './schema-files';

function runCheck(schemasDir: string) {
  const result = spawnSync('npm', ['run', '-s', 'schemas:check', '--', '--seed-history'], {
    cwd: REPO_ROOT,
    env: { ...process.env, SCHEMAS_DIR: schemasDir },
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

describe('npm run schemas:check', () => {
  let scratch: string;

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'schemas-'));
    cpSync(SCHEMAS_DIR, scratch, { recursive: true });
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('passes on the schemas as they are', () => {
    const { status, output } = runCheck(scratch);
    expect(output).toContain('schemas:check passed');
    expect(status).toBe(0);
  });

  it('fails naming the field when a required field without a default is added', () => {
    const file = join(scratch, 'order-placed.avsc');
    const schema = JSON.parse(readFileSync(file, 'utf8'));
    schema.fields.push({ name: 'loyaltyTier', type: 'string', doc: 'Customer loyalty tier.' });
    writeFileSync(file, JSON.stringify(schema, null, 2));

    const { status, output } = runCheck(scratch);
    expect(status).toBe(1);
    expect(output).toContain(
      'schemas/order-placed.avsc cannot read v1: com.securecart.orders.OrderPlaced.loyaltyTier: field added without a default',
    );
    expect(output).toContain('registry rejects orders.order-placed.v1-value under its BACKWARD_TRANSITIVE rule');
  });
});
