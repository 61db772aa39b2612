// npm run schemas:check — fails, naming the field, when a schema change would break readers:
// 1. locally: each schemas/*.avsc must read data of every version kept in schemas/history/;
// 2. against the registry: its compatibility endpoint must accept the schema under the subject's rule.
// `--local-only` skips the registry (no stack running). `--seed-history` first registers every kept
// version, so a fresh registry (CI's local stack) holds what production holds before the check.
import { loadConfig } from '@app/config';
import { allTopics } from '@app/contracts';
import { incompatibilities } from './compatibility';
import { historyOf, sameSchema } from './history';
import { RegistryAdmin, subjectOf } from './registry-admin';
import { readSchemaFiles } from './schema-files';

function checkLocally(): string[] {
  const failures: string[] = [];
  for (const schema of readSchemaFiles()) {
    const versions = historyOf(schema.id);
    if (versions.length === 0) {
      console.log(`new      ${schema.id}: no earlier version (run npm run schemas:snapshot once it lands)`);
      continue;
    }
    const changed = !sameSchema(versions[versions.length - 1].text, schema.text);
    let ok = true;
    for (const version of versions) {
      for (const problem of incompatibilities(schema.text, version.text)) {
        failures.push(`schemas/${schema.id}.avsc cannot read v${version.version}: ${problem.path}: ${problem.problem}`);
        ok = false;
      }
    }
    if (ok) console.log(`ok       ${schema.id}: ${changed ? 'changed, ' : ''}reads v1..v${versions.length}`);
  }
  return failures;
}

function fullName(schemaText: string): string {
  const { name, namespace } = JSON.parse(schemaText) as { name: string; namespace?: string };
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

async function seedHistory(registry: RegistryAdmin, subject: string, schemaId: string): Promise<void> {
  const versions = historyOf(schemaId);
  for (const version of versions) await registry.register(subject, version.text);
  if (versions.length > 0 && (await registry.compatibility(subject)) !== 'BACKWARD_TRANSITIVE') {
    await registry.setCompatibility(subject, 'BACKWARD_TRANSITIVE');
  }
}

async function checkAgainstRegistry(): Promise<string[]> {
  const config = loadConfig(process.env, { service: 'schemas-check', defaultHttpPort: 0 });
  const registry = new RegistryAdmin(config.schemaRegistry);
  const failures: string[] = [];
  for (const schema of readSchemaFiles()) {
    const topic = allTopics.find((t) => t.schema.name === fullName(schema.text));
    if (!topic) {
      failures.push(`schemas/${schema.id}.avsc is not used by any topic in the catalog (libs/contracts)`);
      continue;
    }
    const subject = subjectOf(topic.name);
    if (process.argv.includes('--seed-history')) await seedHistory(registry, subject, schema.id);
    const verdict = await registry.checkCompatibility(subject, schema.text);
    if (!verdict.compatible) {
      const rule = (await registry.compatibility(subject)) ?? 'its default';
      const detail = verdict.messages.length > 0 ? verdict.messages.join('; ') : 'no detail given (the local check names the fields)';
      failures.push(`registry rejects ${subject} under its ${rule} rule: ${detail}`);
    } else {
      console.log(`ok       ${subject}: ${verdict.newSubject ? 'not registered yet' : 'registry accepts it'}`);
    }
  }
  return failures;
}

async function main(): Promise<void> {
  const failures = checkLocally();
  if (!process.argv.includes('--local-only')) failures.push(...(await checkAgainstRegistry()));
  if (failures.length > 0) {
    console.error(`\nschemas:check found ${failures.length} breaking change(s):`);
    for (const failure of failures) console.error(`  ✗ ${failure}`);
    console.error('\nAdd a default to new fields, keep removed enum symbols readable, or publish a new major topic.');
    process.exit(1);
  }
  console.log('schemas:check passed');
}

main().catch((err: Error) => {
  console.error(`schemas:check failed: ${err.message}`);
  process.exit(1);
});
