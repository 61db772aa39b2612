/**
 * The compatibility gate as CI runs it: `npm run schemas:check` on the real schemas passes; on a
 * scratch copy where OrderPlaced gains a required field without a default it fails, naming the field,
 * both in the local check and at the registry's compatibility endpoint. Every run uses subjects of its
 * own (SCHEMAS_SUBJECT_PREFIX), so nothing earlier runs left in the registry's persistent store counts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName } from '@app/testing';
import { freePort } from '../../test/support/service-process';
import { REPO_ROOT, SCHEMAS_DIR } from './schema-files';

const ORDER_PLACED_V2 = join(REPO_ROOT, 'libs/contracts/test/evolution/order-placed.v2.avsc');

function runCheck(schemasDir: string, env: Record<string, string> = {}, args = ['--seed-history']) {
  const result = spawnSync('npm', ['run', '-s', 'schemas:check', '--', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, SCHEMAS_DIR: schemasDir, SCHEMAS_SUBJECT_PREFIX: `${uniqueName('gate')}.`, ...env },
    encoding: 'utf8',
    timeout: 90_000,
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
    expect(output).toMatch(/registry rejects gate-\S+\.orders\.order-placed\.v1-value under its BACKWARD_TRANSITIVE rule/);
  });

  it('checks every released version, not just the latest', () => {
    // History v1 (as released) and v2 (the real evolution fixture: giftMessage with a default). The
    // candidate keeps v2 but drops giftMessage's default: it reads v2 records, not v1 records.
    mkdirSync(join(scratch, 'history/order-placed'), { recursive: true });
    const v2 = readFileSync(ORDER_PLACED_V2, 'utf8');
    writeFileSync(join(scratch, 'history/order-placed/v2.avsc'), v2);
    const candidate = JSON.parse(v2);
    delete candidate.fields.find((f: { name: string }) => f.name === 'giftMessage').default;
    writeFileSync(join(scratch, 'order-placed.avsc'), JSON.stringify(candidate, null, 2));

    const { status, output } = runCheck(scratch);
    expect(status).toBe(1);
    expect(output).toContain('schemas/order-placed.avsc cannot read v1: com.securecart.orders.OrderPlaced.giftMessage: field added without a default');
    expect(output).not.toContain('cannot read v2');
    // The registry holds v1 and v2 under BACKWARD_TRANSITIVE and refuses the candidate for v1's sake.
    expect(output).toMatch(/registry rejects gate-\S+\.orders\.order-placed\.v1-value under its BACKWARD_TRANSITIVE rule/);
  });

  it.each([
    ['a path that is not the registry API', async () => 'http://127.0.0.1:8081/apis/wrong/v7', 'registry answered 404', 'right?'],
    ['a closed port', async () => `http://127.0.0.1:${await freePort()}/apis/ccompat/v7`, 'unreachable (ECONNREFUSED)', 'right?'],
  ])('fails clearly on a wrong registry URL: %s', async (_what, urlOf, ...message) => {
    const url = await urlOf();
    for (const args of [['--seed-history'], []]) {
      const { status, output } = runCheck(scratch, { SCHEMA_REGISTRY_URL: url }, args);
      expect(output).toContain(`schemas:check failed: `);
      expect(output).toContain(url);
      for (const part of message) expect(output).toContain(part);
      expect(output).toContain('SCHEMA_REGISTRY_URL');
      expect(output).not.toContain('schemas:check passed');
      expect(status).toBe(1);
    }
  });
});
