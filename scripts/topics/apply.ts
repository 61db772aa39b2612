// npm run topics:apply — creates or updates every catalog topic and its DLQ on the configured cluster.
// TOPICS_NAME_PREFIX (tests only) applies the layout to prefixed scratch copies instead, so a test can
// watch the topics being created from nothing on a broker where the real ones already exist.
import { loadConfig } from '@app/config';
import { catalogLayout } from '@app/contracts';
import { applyTopics, createKafkaClient } from '@app/kafka';

async function main(): Promise<void> {
  const config = loadConfig(process.env, { service: 'topics-apply', defaultHttpPort: 0 });
  const admin = createKafkaClient(config.kafka).admin();
  await admin.connect();
  try {
    const prefix = process.env.TOPICS_NAME_PREFIX ?? '';
    const layout = catalogLayout().map((t) => ({ ...t, name: prefix + t.name }));
    const changes = await applyTopics(admin, layout);
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
