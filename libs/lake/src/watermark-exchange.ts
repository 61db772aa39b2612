import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger } from '@app/logging';

/**
 * Where sink instances of one group tell each other how far each of their partitions has got, so an
 * hour closes on the low watermark across ALL partitions of a topic, not only the ones an instance
 * owns (with two instances, each would otherwise close an hour while the other still lands it).
 * Compacted: the newest state per (group, topic, partition) is all a starting instance needs.
 */
export const WATERMARK_TOPIC = 's3-sink.watermarks';

/** What one instance reports about one partition it owns. */
export interface PartitionWatermark {
  /** Highest event time seen (ms), or null before the first record. */
  maxEventTime: number | null;
  /** Wall-clock time of the partition's last record (ms) at its owner, for idleness. */
  lastRecordAt: number;
  /** Hours the owner still holds open files of: nobody else closes them meanwhile. */
  openHours: string[];
}

export interface PeerWatermark extends PartitionWatermark {
  instance: string;
  /** When the owner published it (its wall clock, ms). */
  at: number;
}

interface WireValue extends PeerWatermark {
  group: string;
  topic: string;
  partition: number;
}

export async function ensureWatermarkTopic(admin: Admin): Promise<void> {
  if ((await admin.listTopics()).includes(WATERMARK_TOPIC)) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: WATERMARK_TOPIC,
        numPartitions: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.ms', value: String(3_600_000) },
        ],
      },
    ],
  });
}

const keyOf = (group: string, topic: string, partition: number) => `${group}|${topic}|${partition}`;

/**
 * Publishes this instance's partition states (only changes, plus a periodic refresh) and keeps the
 * latest state every other instance of the group published. It reads with a consumer group of its own
 * that never commits, so it reads the whole compacted topic at every start and leaves nothing behind.
 */
export class WatermarkExchange {
  readonly instance = randomUUID();
  private readonly peers = new Map<string, PeerWatermark & { topic: string; partition: number }>();
  private readonly sent = new Map<string, { json: string; openHours: string; at: number }>();
  private consumer?: Consumer;
  private producer?: Producer;
  private caughtUp = false;
  private startOffset = 0n;
  private startedAt = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly group: string,
    private readonly logger: Logger,
    /** A state unchanged this long is published again, so a peer can tell an owner is alive. */
    private readonly refreshMs = 30_000,
    /** A partition's progress is published at most this often (a change of its open hours at once). */
    private readonly minIntervalMs = 5_000,
  ) {}

  async start(producer: Producer): Promise<void> {
    this.producer = producer;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureWatermarkTopic(admin);
      const [end] = await admin.fetchTopicOffsets(WATERMARK_TOPIC);
      this.startOffset = BigInt(end?.high ?? '0');
    } finally {
      await admin.disconnect();
    }
    this.caughtUp = this.startOffset === 0n;
    this.startedAt = Date.now();
    const consumer = this.kafka.consumer({ groupId: `${this.group}.watermarks.${this.instance}`, maxWaitTimeInMs: 500, allowAutoTopicCreation: false });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: WATERMARK_TOPIC, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (BigInt(message.offset) + 1n >= this.startOffset) this.caughtUp = true;
        if (!message.value) return;
        let v: WireValue;
        try {
          v = JSON.parse(message.value.toString('utf8')) as WireValue;
        } catch {
          return;
        }
        if (v.group !== this.group || v.instance === this.instance) return;
        this.peers.set(keyOf(v.group, v.topic, v.partition), v);
      },
    });
  }

  /**
   * True once the states published before this instance started have been read (or after a grace
   * period, should the newest of them have been compacted away before it could be seen).
   */
  get ready(): boolean {
    return this.caughtUp || Date.now() - this.startedAt > 3 * this.refreshMs;
  }

  /** The latest state other instances published for each partition of `topic`. */
  peerPartitions(topic: string): Map<number, PeerWatermark> {
    const out = new Map<number, PeerWatermark>();
    for (const v of this.peers.values()) if (v.topic === topic) out.set(v.partition, v);
    return out;
  }

  /** Publishes the states of the partitions this instance owns that changed (or are due a refresh). */
  async publish(topic: string, partitions: Map<number, PartitionWatermark>, now: number): Promise<void> {
    const messages: { key: string; value: string }[] = [];
    for (const [partition, state] of partitions) {
      const key = keyOf(this.group, topic, partition);
      const json = JSON.stringify(state);
      const openHours = state.openHours.join(',');
      const last = this.sent.get(key);
      if (last) {
        const age = now - last.at;
        if (last.json === json && age < this.refreshMs) continue;
        if (last.openHours === openHours && age < this.minIntervalMs) continue;
      }
      const value: WireValue = { group: this.group, topic, partition, instance: this.instance, at: now, ...state };
      messages.push({ key, value: JSON.stringify(value) });
      this.sent.set(key, { json, openHours, at: now });
    }
    if (messages.length === 0 || !this.producer) return;
    try {
      await this.producer.send({ topic: WATERMARK_TOPIC, messages });
    } catch (err) {
      for (const m of messages) this.sent.delete(m.key);
      this.logger.warn('watermark publish failed; retrying on the next tick', { error: String(err) });
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
