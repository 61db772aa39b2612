/**
 * The local S3 server (moto) keeps its objects in memory, while the broker keeps its log and the
 * sink's committed offsets on disk: after `npm run stack:down` the lake is empty but the sink would
 * resume from where it was, and the lake would lack everything landed before. When the lake holds no
 * raw segment at all yet the sink's group has committed offsets, those offsets are deleted, so the sink
 * lands again everything the broker retains (the same keys, exactly once).
 */
import { loadConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import { createObjectStore } from '@app/object-store';

export async function realignSinkWithEmptyLake(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const config = loadConfig(env, { service: 'npm-start', defaultHttpPort: 0 });
  const lakeUrl = env.LAKE_URL?.trim() || `s3://${config.objectStore.bucket}/`;
  const groupId = env.SINK_GROUP_ID?.trim() || 's3-sink';
  const store = createObjectStore(lakeUrl, config.objectStore);
  if ((await store.list('raw/')).length > 0) return undefined;
  const admin = createKafkaClient({ ...config.kafka, clientId: 'npm-start' }).admin();
  await admin.connect();
  try {
    const groups = await admin.listGroups();
    if (!groups.groups.some((g) => g.groupId === groupId)) return undefined;
    const offsets = await admin.fetchOffsets({ groupId });
    const committed = offsets.filter((t) => t.partitions.some((p) => Number(p.offset) >= 0)).map((t) => t.topic);
    if (committed.length === 0) return undefined;
    // The group is empty here (npm start starts the sink after this), which deleting requires.
    await admin.deleteGroups([groupId]);
    return `the lake at ${lakeUrl} is empty (the local S3 server keeps objects in memory) but the sink's group ${groupId} had offsets on ${committed.length} topic(s): deleted them, so the sink lands again what Kafka retains`;
  } finally {
    await admin.disconnect();
  }
}
