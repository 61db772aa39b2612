// npm run schemas:register — registers every catalog topic's value schema under `<topic>-value`
// and sets the subject's rule to BACKWARD_TRANSITIVE. Idempotent: an identical schema keeps its id.
import { loadConfig } from '@app/config';
import { allTopics } from '@app/contracts';
import { RegistryAdmin, subjectOf } from './registry-admin';

async function main(): Promise<void> {
  const config = loadConfig(process.env, { service: 'schemas-register', defaultHttpPort: 0 });
  const registry = new RegistryAdmin(config.schemaRegistry);
  for (const topic of allTopics) {
    const subject = subjectOf(topic.name);
    // Apicurio answers 404 to PUT /config/{subject} until the subject exists: register first. The
    // first version has nothing to be compatible with; later ones are checked under the rule set below.
    const id = await registry.register(subject, topic.schema.json);
    if ((await registry.compatibility(subject)) !== 'BACKWARD_TRANSITIVE') {
      await registry.setCompatibility(subject, 'BACKWARD_TRANSITIVE');
    }
    console.log(`registered ${subject.padEnd(48)} id=${id} BACKWARD_TRANSITIVE`);
  }
}

main().catch((err: Error) => {
  console.error(`schemas:register failed: ${err.message}`);
  process.exit(1);
});
