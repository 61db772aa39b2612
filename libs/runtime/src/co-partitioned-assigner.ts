import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const CO_PARTITIONED_ASSIGNER = 'SecureCartCoPartitioned';

/**
 * Plans tasks like Kafka Streams: task `n` is partition `n` of every subscribed topic, and a task is
 * never split between members. State keyed by an id is then partition-local for every input topic
 * keyed by the same id, and one transactional id per task fences a previous owner of all its inputs.
 */
export function planTasks(memberIds: string[], partitionCounts: number[]): Map<string, number[]> {
  const members = [...memberIds].sort();
  const taskCount = Math.max(0, ...partitionCounts);
  const plan = new Map<string, number[]>(members.map((m) => [m, []]));
  for (let task = 0; task < taskCount; task++) plan.get(members[task % members.length])!.push(task);
  return plan;
}

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED_ASSIGNER,
  version: 0,
  async assign({ members, topics }) {
    const partitionsOf = new Map(
      topics.map((topic) => [topic, cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId)]),
    );
    const plan = planTasks(
      members.map((m) => m.memberId),
      [...partitionsOf.values()].map((ids) => ids.length),
    );
    return [...plan].map(([memberId, tasks]) => {
      const assignment: Record<string, number[]> = {};
      for (const [topic, ids] of partitionsOf) {
        const owned = ids.filter((id) => tasks.includes(id));
        if (owned.length > 0) assignment[topic] = owned;
      }
      return { memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }) };
    });
  },
  protocol({ topics }) {
    return { name: CO_PARTITIONED_ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});
