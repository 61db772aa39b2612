import type { Admin } from 'kafkajs';

/** How far the sink's committed offsets are behind a target, per partition of one topic. */
export interface LandingLag {
  topic: string;
  /** Partitions whose committed offset is below the target, with the offsets still to land. */
  behind: { partition: number; committed: bigint; target: bigint }[];
  /** Offsets still to land, summed over partitions (transaction markers included). */
  offsets: bigint;
}

/**
 * The sink commits a partition's offset only after the records before it are uploaded, so a committed
 * offset at or past a target end offset means every record produced before the target was taken has
 * landed. A partition the group never committed counts as committed at its low watermark.
 */
export function landingLag(
  topic: string,
  targets: ReadonlyMap<number, bigint>,
  committed: ReadonlyMap<number, bigint>,
  lowWatermarks: ReadonlyMap<number, bigint> = new Map(),
): LandingLag {
  const behind: LandingLag['behind'] = [];
  let offsets = 0n;
  for (const [partition, target] of [...targets].sort((a, b) => a[0] - b[0])) {
    const at = committed.get(partition) ?? lowWatermarks.get(partition) ?? 0n;
    if (at < target) {
      behind.push({ partition, committed: at, target });
      offsets += target - at;
    }
  }
  return { topic, behind, offsets };
}

export interface WaitForLandingOptions {
  admin: Admin;
  /** The sink's consumer group (`SINK_GROUP_ID`). */
  groupId: string;
  topic: string;
  timeoutMs: number;
  pollMs?: number;
  onProgress?: (lag: LandingLag) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Waits until the sink has landed every record of `topic` produced before the call: the end offsets
 * are taken once, then the group's committed offsets are polled until they reach them. Returns the
 * last lag seen: empty when caught up, otherwise what was still missing at the timeout. A transaction
 * marker at a partition's end is never committed past while the partition is idle, so a
 * transactionally written topic can end one offset short per partition; the caller reports it.
 */
export async function waitForLanding(o: WaitForLandingOptions): Promise<LandingLag> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const ends = await o.admin.fetchTopicOffsets(o.topic);
  const targets = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const lows = new Map(ends.map((e) => [e.partition, BigInt(e.low)]));
  const deadline = now() + o.timeoutMs;
  for (;;) {
    const [group] = await o.admin.fetchOffsets({ groupId: o.groupId, topics: [o.topic] });
    const committed = new Map<number, bigint>();
    for (const p of group?.partitions ?? []) if (Number(p.offset) >= 0) committed.set(p.partition, BigInt(p.offset));
    const lag = landingLag(o.topic, targets, committed, lows);
    o.onProgress?.(lag);
    if (lag.behind.length === 0 || now() >= deadline) return lag;
    await sleep(o.pollMs ?? 1000);
  }
}
