// npm run topics:apply — creates or updates every catalog topic and its DLQ on the configured cluster.
import { loadConfig } from '@app/config';
import { catalogLayout } from '@app/contracts';
import { applyTopics, createKafkaClient } from '@app/kafka';

async function main(): Promise<void> {
  const config = loadConfig(process.env, { service: 'topics-apply', defaultHttpPort: 0 });
  const admin = createKafkaClient(config.kafka).admin();
  await admin.connect();
  try {
    const changes = await applyTopics(admin, catalogLayout());
    for (const change of changes) {
      const { topic, action, ...detail } = change;
      console.log(`${action.padEnd(24)} ${topic}${Object.keys(detail).length ? ' ' + JSON.stringify(detail) : ''}`);
    }
    if (changes.some((c) => c.action === 'partitions-not-decreased')) process.exitCode = 1;
  } finally {
    await admin.disconnect();
  }
}

main().catch((err: Error) => {
  console.error(`topics:apply failed: ${err.message}`);
  process.exit(1);
});
