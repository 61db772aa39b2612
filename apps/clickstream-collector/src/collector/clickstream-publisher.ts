/**
 * Publishes a batch's events to the clickstream topic in the Confluent wire format (the codec's cached
 * serializer), keyed by session, with an idempotent producer and acks=all, and reports each record's
 * partition and offset the way PutRecords reports sequence numbers.
 */
import { CompressionTypes, type Admin, type Kafka, type Message, type Producer } from 'kafkajs';
import { CodecError, HEADER_LENGTH, InvalidRecordError, MAGIC_BYTE, type RegistryCodec, type Serializer } from '@app/codec';
import { topics, type ClickstreamEvent } from '@app/contracts';
import { classifyKafkaError } from '@app/kafka';
import type { Logger } from '@app/logging';
import type { RecordError } from './clickstream-input';
import { explicitPartitioner, partitionOf } from './key-partition';

export interface PublishedRecord {
  partition: number;
  offset: string;
}

export type PublishResult = PublishedRecord | RecordError;

export interface PublisherOptions {
  topic: string;
  publishTimeoutMs: number;
  logger: Logger;
}

/** How long a topic's partition count is trusted before it is read again (partitions only ever grow). */
const PARTITION_COUNT_TTL_MS = 60_000;

/** How long shutdown waits for the Kafka clients to disconnect. */
const CLOSE_TIMEOUT_MS = 5_000;
/** Produce calls in flight at once; requests arriving meanwhile are merged into the next call. */
const MAX_PRODUCE_CALLS = 2;
/** Messages merged into one produce call at most (a request is never split). */
const MAX_MESSAGES_PER_CALL = 5_000;

interface PendingSend {
  messages: Message[];
  /** Answered (or timed out): if still waiting, it is dropped instead of sent. */
  settled: boolean;
  resolve: (records: PublishedRecord[]) => void;
  reject: (err: unknown) => void;
}

/** Size of the buffers a batch's records are framed into. */
const FRAME_CHUNK_BYTES = 256 * 1024;

/**
 * Frames events (Confluent header + Avro body, the codec's wire format under the codec's schema id)
 * into shared chunks and hands out views of them: one allocation per 256 KiB instead of a copy per
 * record (the producer copies the bytes into its request anyway). A chunk is only ever written forward,
 * so a view stays valid while later batches are framed after it.
 */
class FrameWriter {
  private chunk = Buffer.allocUnsafe(FRAME_CHUNK_BYTES);
  private position = 0;

  constructor(readonly schemaId: number) {}

  /** The framed record, or undefined when the schema refuses the value. */
  write(event: ClickstreamEvent): Buffer | undefined {
    for (;;) {
      const start = this.position;
      if (this.chunk.length - start > HEADER_LENGTH) {
        this.chunk[start] = MAGIC_BYTE;
        this.chunk.writeUInt32BE(this.schemaId, start + 1);
        let end: number;
        try {
          end = topics.clickstream.schema.type.encode(event, this.chunk, start + HEADER_LENGTH);
        } catch {
          return undefined;
        }
        if (end >= 0) {
          this.position = end;
          return this.chunk.subarray(start, end);
        }
        // avsc answers minus the bytes it lacked past the chunk's end: a fresh chunk that holds this record.
        this.chunk = Buffer.allocUnsafe(Math.max(FRAME_CHUNK_BYTES, 2 * (this.chunk.length - start - end)));
      } else {
        this.chunk = Buffer.allocUnsafe(FRAME_CHUNK_BYTES);
      }
      this.position = 0;
    }
  }
}

/**
 * Each placed message's partition and offset (its partition's base offset plus its position there).
 * Plain numbers while offsets stay below 2^53 (they always do in practice); BigInt past that.
 */
function offsetsOf(placed: Int32Array, baseOffsets: string[]): PublishedRecord[] {
  const records = new Array<PublishedRecord>(placed.length / 2);
  for (let i = 0; i < records.length; i++) {
    const partition = placed[2 * i];
    const position = placed[2 * i + 1];
    const base = Number(baseOffsets[partition]);
    const offset = base >= 0 && Number.isSafeInteger(base + position) ? String(base + position) : String(BigInt(baseOffsets[partition]) + BigInt(position));
    records[i] = { partition, offset };
  }
  return records;
}

function allFailed(count: number, error: RecordError): RecordError[] {
  return Array.from({ length: count }, () => error);
}

export class ClickstreamPublisher {
  private producer?: Promise<Producer>;
  private admin?: Promise<Admin>;
  private partitionCount?: { value: number; readAt: number };
  private readonly pending: PendingSend[] = [];
  /** Every client made, connected or still connecting: closed directly, never by awaiting a connect. */
  private readonly clients = new Set<Producer | Admin>();
  private produceCalls = 0;
  /** Shared by every batch (per schema id): a chunk is filled by several batches before the next one is allocated. */
  private frames?: FrameWriter;

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: RegistryCodec,
    private readonly options: PublisherOptions,
  ) {}

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      // Idempotent with acks=all: kafkajs' retries never duplicate or reorder a batch on a partition.
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 5,
        allowAutoTopicCreation: false,
        // Partitions are chosen in produce() with Kafka's key hash; kafkajs only takes them as given.
        createPartitioner: explicitPartitioner,
      });
      this.clients.add(producer);
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => {
        this.producer = undefined;
        this.clients.delete(producer);
      });
    }
    return this.producer;
  }

  private async partitions(): Promise<number> {
    const cached = this.partitionCount;
    if (cached && Date.now() - cached.readAt < PARTITION_COUNT_TTL_MS) return cached.value;
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.clients.add(admin);
      this.admin = admin.connect().then(() => admin);
      this.admin.catch(() => {
        this.admin = undefined;
        this.clients.delete(admin);
      });
    }
    const admin = await this.admin;
    const { topics: [metadata] } = await admin.fetchTopicMetadata({ topics: [this.options.topic] });
    this.partitionCount = { value: metadata.partitions.length, readAt: Date.now() };
    return metadata.partitions.length;
  }

  /** The serializer for the topic (schema id looked up once); errors are the codec's, classified by the caller. */
  serializer(): Promise<Serializer<ClickstreamEvent>> {
    return this.codec.serializerFor<ClickstreamEvent>(this.options.topic, topics.clickstream.schema);
  }

  /** Results in the order of `events`; never throws for a record's or Kafka's failure. */
  async publish(events: ClickstreamEvent[]): Promise<PublishResult[]> {
    if (events.length === 0) return [];
    let serializer: Serializer<ClickstreamEvent>;
    try {
      serializer = await this.serializer();
    } catch (err) {
      this.options.logger.warn('schema registry unavailable', { error: (err as Error).message });
      const retriable = err instanceof CodecError ? err.retriable : true;
      return allFailed(events.length, {
        errorCode: retriable ? 'ServiceUnavailable' : 'InternalFailure',
        errorMessage: `schema registry: ${(err as Error).message}`,
      });
    }
    const results: PublishResult[] = new Array(events.length);
    const messages: Message[] = [];
    const indexes: number[] = [];
    if (this.frames?.schemaId !== serializer.schemaId) this.frames = new FrameWriter(serializer.schemaId);
    const frames = this.frames;
    events.forEach((event, index) => {
      const value = frames.write(event);
      if (value) {
        messages.push({ key: event.sessionId, value });
        indexes.push(index);
        return;
      }
      let paths: string;
      try {
        serializer.encode(event); // names the fields the schema refused
        paths = 'not encodable';
      } catch (err) {
        paths = err instanceof InvalidRecordError ? err.message : (err as Error).message;
      }
      results[index] = { errorCode: 'InvalidEvent', errorMessage: `does not match ClickstreamEvent: ${paths}` };
    });
    if (messages.length === 0) return results;
    const outcome = await this.send(messages);
    if ('errorCode' in outcome) {
      for (const index of indexes) results[index] = outcome;
    } else {
      for (let i = 0; i < indexes.length; i++) results[indexes[i]] = outcome[i];
    }
    return results;
  }

  /**
   * Sends pre-encoded messages and returns each one's partition and offset, or one error for all of
   * them. Requests arriving while {@link MAX_PRODUCE_CALLS} produce calls are in flight wait and go
   * together in the next call (as a producer's linger would merge them): fewer, larger record batches
   * cost the collector and the broker less per event. A request still waiting at its deadline is taken
   * out, so nothing of it is written.
   */
  async send(messages: Message[]): Promise<PublishedRecord[] | RecordError> {
    let timer: NodeJS.Timeout | undefined;
    const request: PendingSend = { messages, settled: false, resolve: () => undefined, reject: () => undefined };
    try {
      const work = new Promise<PublishedRecord[]>((resolve, reject) => {
        request.resolve = resolve;
        request.reject = reject;
        this.pending.push(request);
        this.drain();
      });
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no acknowledgement within ${this.options.publishTimeoutMs} ms`)), this.options.publishTimeoutMs);
      });
      // A send past the deadline may still land: the client retries, and the lake deduplicates by eventId.
      work.catch(() => undefined);
      return await Promise.race([work, deadline]);
    } catch (err) {
      const kind = classifyKafkaError(err);
      this.options.logger.warn('publish failed', { error: (err as Error).message, kind, records: messages.length });
      return kind === 'other'
        ? { errorCode: 'ServiceUnavailable', errorMessage: `Kafka: ${(err as Error).message}` }
        : { errorCode: 'InternalFailure', errorMessage: `Kafka refused the collector (${kind}): ${(err as Error).message}` };
    } finally {
      request.settled = true; // a request timed out while waiting is never sent
      clearTimeout(timer);
    }
  }

  private drain(): void {
    while (this.produceCalls < MAX_PRODUCE_CALLS) {
      const group: PendingSend[] = [];
      let count = 0;
      while (this.pending.length > 0 && (group.length === 0 || count + this.pending[0].messages.length <= MAX_MESSAGES_PER_CALL)) {
        const next = this.pending.shift()!;
        if (next.settled) continue;
        group.push(next);
        count += next.messages.length;
      }
      if (group.length === 0) return;
      this.produceCalls++;
      void this.produce(group).finally(() => {
        this.produceCalls--;
        this.drain();
      });
    }
  }

  /**
   * One produce call for the group. The partition of every message is chosen here with Kafka's own key
   * hash, so the broker's base offset per partition plus the message's position among that
   * partition's messages in this call is its offset.
   */
  private async produce(group: PendingSend[]): Promise<void> {
    try {
      const count = await this.partitions();
      // Per partition: messages of this call so far; per request: each message's partition and position.
      const positions = new Array<number>(count).fill(0);
      const all: Message[] = [];
      const placedPerRequest = group.map((request) => {
        const placed = new Int32Array(2 * request.messages.length);
        request.messages.forEach((message, i) => {
          const partition = partitionOf(message.key!, count);
          message.partition = partition;
          placed[2 * i] = partition;
          placed[2 * i + 1] = positions[partition]++;
          all.push(message);
        });
        return placed;
      });
      const producer = await this.connectedProducer();
      const metadata = await producer.send({ topic: this.options.topic, acks: -1, compression: CompressionTypes.None, messages: all });
      const base = new Array<string>(count).fill('-1');
      for (const m of metadata) base[m.partition] = m.baseOffset ?? '-1';
      group.forEach((request, i) => request.resolve(offsetsOf(placedPerRequest[i], base)));
    } catch (err) {
      for (const request of group) request.reject(err);
    }
  }

  /**
   * Disconnects, bounded in time: during a broker outage a connect may still be retrying, and shutdown
   * must not wait for it (SIGTERM would hang for the client's whole retry budget).
   */
  async close(): Promise<void> {
    const disconnects = Promise.all([...this.clients].map((client) => client.disconnect().catch(() => undefined)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([disconnects, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }
}
