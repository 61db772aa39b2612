/**
 * `npm run schemas:register` against the real registry: every catalog topic's schema lands under its
 * subject with the subject's own rule set to BACKWARD_TRANSITIVE, and the registry then enforces it.
 * Subjects of this run only (SCHEMAS_SUBJECT_PREFIX): the registry's store outlives test runs.
 */
import { spawnSync } from 'node:child_process';
import { loadConfig } from '@app/config';
import { allTopics } from '@app/contracts';
import { uniqueName } from '@app/testing';
import { RegistryAdmin, subjectOf } from './registry-admin';
import { REPO_ROOT } from './schema-files';

const config = loadConfig(process.env, { service: 'schemas-register-e2e', defaultHttpPort: 0 });

describe('npm run schemas:register', () => {
  const env = { ...process.env, SCHEMAS_SUBJECT_PREFIX: `${uniqueName('register')}.` };
  const registry = new RegistryAdmin(config.schemaRegistry);

  it('registers every catalog schema and sets BACKWARD_TRANSITIVE on each subject', async () => {
    const run = spawnSync('npm', ['run', '-s', 'schemas:register'], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 90_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    for (const topic of allTopics) {
      const subject = subjectOf(topic.name, env);
      // The subject's own setting, not the registry-wide default it would otherwise inherit.
      const res = await fetch(`${config.schemaRegistry.url}/config/${encodeURIComponent(subject)}`);
      expect({ subject, ...((await res.json()) as object) }).toMatchObject({ subject, compatibilityLevel: 'BACKWARD_TRANSITIVE' });
      expect(run.stdout).toMatch(new RegExp(`registered ${subject.replace(/\./g, '\\.')}\\s+id=\\d+ BACKWARD_TRANSITIVE`));
    }
    const registryDefault = await (await fetch(`${config.schemaRegistry.url}/config`)).json();
    expect(registryDefault).not.toMatchObject({ compatibilityLevel: 'BACKWARD_TRANSITIVE' });

    // The rule is live: a required field without a default is refused for the registered subject.
    const breaking = JSON.parse(allTopics[0].schema.json);
    breaking.fields.push({ name: 'loyaltyTier', type: 'string' });
    const verdict = await registry.checkCompatibility(subjectOf(allTopics[0].name, env), JSON.stringify(breaking));
    expect(verdict).toMatchObject({ compatible: false, newSubject: false });

    // Idempotent: a second run keeps every schema's id.
    const again = spawnSync('npm', ['run', '-s', 'schemas:register'], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 90_000 });
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(run.stdout);
  });
});
