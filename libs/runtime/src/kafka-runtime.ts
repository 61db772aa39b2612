import type { Admin, Batch, Consumer, IHeaders, Kafka, KafkaMessage, Message, Producer, Transaction } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { AvroSchema, Deserializer, RegistryCodec } from '@app/codec';
import { DLQ_PARTITIONS, DLQ_RETENTION_MS, topicByName, topicLayout } from '@app/contracts';
import { applyTopics, classifyKafkaError, installReadCommittedFilter, type TopicSpec } from '@app/kafka';
import type { Logger } from '@app/logging';
import { restoreStores } from './changelog-restore';
import { coPartitionedAssigner } from './co-partitioned-assigner';
import { producerWithCachedCoordinators } from './coordinator-cache';
import { deadLetter, dlqTopicOf } from './dead-letter';
import { classify, errorClass, isFencing, JsonDecodeError, RetryBatchError, TaskFencedError } from './errors';
import type { HandlerContext, InboundRecord, OutboundRecord, RecordHandler, StateStore } from './handler';
import { runtimeDefaults, type RuntimeDefaults, type RuntimeTuning } from './runtime-defaults';
import { RuntimeMetrics } from './runtime-metrics';
import { TaskStore } from './task-store';
import { startRecordSpan, TRACEPARENT, type RecordTrace } from './trace-context';

/** A topic the service owns outside the catalog (command, repartition, control topics): JSON values. */
export interface InternalTopic {
  name: string;
  partitions: number;
  cleanupPolicy?: 'delete' | 'compact';
  /** Extra topic configs, e.g. `retention.ms`. */
  configs?: Record<string, string>;
}

/** An Avro topic outside the catalog (tests, tools); catalog topics are found by name. */
export interface AvroTopic {
  name: string;
  schema: AvroSchema;
}

/** A punctuation: runs per owned task in its own transaction; the wall clock only says when. */
export type Punctuator = (task: number, context: HandlerContext) => Promise<void> | void;

export interface KafkaRuntimeOptions {
  kafka: Kafka;
  codec: RegistryCodec;
  /** Service name: DLQ headers, transactional ids, changelog topic names. */
  service: string;
  /** Consumer group; defaults to the service name (extra groups are `<service>.<name>`). */
  groupId?: string;
  logger: Logger;
  metrics: Registry;
  /** One handler per input topic (catalog, `avroTopics` or `internalTopics`). */
  handlers: Record<string, RecordHandler<never>> | Map<string, RecordHandler<never>>;
  internalTopics?: InternalTopic[];
  avroTopics?: AvroTopic[];
  /** Store names; each is backed by the compacted topic `<service>.<store>-changelog`. */
  stores?: string[];
  tuning?: RuntimeTuning;
  /**
   * The runtime cannot go on: Kafka refused our credentials or permissions (a deployment problem no
   * retry fixes), or the consumer crashed for good. It has closed itself; the process should exit
   * non-zero (the Nest transport does). Default: log only.
   */
  onFatal?: (err: Error) => void;
  /** Instrumentation and tests: runs inside every transaction just before its commit. */
  beforeCommit?: (info: { task: number; transactionalId: string }) => Promise<void> | void;
}

type Codec = { kind: 'avro'; schema: AvroSchema; deserializer: Deserializer<unknown> } | { kind: 'json' };

type TaskState = 'starting' | 'running' | 'fenced' | 'closed';

/** Partition number `n` of every input topic, with its transactional producer and its stores. */
class Task {
  state: TaskState = 'starting';
  producer?: Producer;
  forgetCoordinators: () => void = () => undefined;
  ready!: Promise<void>;
  /** Next offset to process per input topic, from the committed offsets read after fencing. */
  readonly positions = new Map<string, bigint>();
  readonly stores = new Map<string, TaskStore>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly transactionalId: string,
    readonly generation: number,
  ) {}

  /** Batches and punctuations of one task run one at a time (one producer, one transaction at a time). */
  exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

interface PendingOutput {
  topic: string;
  message: Message;
  partition?: number;
}

/**
 * What one transaction will write: outputs, changelog records, dead letters and input offsets. Writes
 * of the record being handled are held apart until it succeeds, so a failed record leaves no trace.
 */
class UnitOfWork {
  readonly outputs: PendingOutput[] = [];
  private recordOutputs: OutboundRecord[] = [];
  private readonly stores: Map<string, TaskStore>;
  tx?: Transaction;

  constructor(
    private readonly task: Task,
    private readonly resolveTopic: (topic: string) => boolean,
  ) {
    this.stores = task.stores;
  }

  context(): HandlerContext {
    return {
      emit: (record) => {
        if (!this.resolveTopic(record.topic)) throw new Error(`emit to ${record.topic}: not a catalog, Avro or internal topic of this runtime`);
        this.recordOutputs.push(record);
      },
      store: <V>(name: string): StateStore<V> => {
        const store = this.stores.get(name);
        if (!store) throw new Error(`no store named ${name} (declare it in KafkaRuntimeOptions.stores)`);
        return store as TaskStore<V>;
      },
    };
  }

  takeRecordOutputs(): OutboundRecord[] {
    const outputs = this.recordOutputs;
    this.recordOutputs = [];
    return outputs;
  }

  keepRecord(encoded: PendingOutput[]): void {
    this.outputs.push(...encoded);
    for (const store of this.stores.values()) store.keepRecord();
  }

  dropRecord(): void {
    this.recordOutputs = [];
    for (const store of this.stores.values()) store.dropRecord();
  }

  changelogOutputs(): PendingOutput[] {
    return [...this.stores.values()].flatMap((store) =>
      store.changelogWrites().map(({ key, value }) => ({
        topic: store.changelogTopic,
        partition: this.task.id,
        message: { key, value: value === null ? null : JSON.stringify(value) },
      })),
    );
  }

  applyToStores(): void {
    for (const store of this.stores.values()) store.applyTransaction();
  }

  rollbackStores(): void {
    for (const store of this.stores.values()) store.dropTransaction();
  }
}

function sizeOf(value: Message['value'] | Message['key']): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** Splits writes so that no request carries more than `maxBytes` of keys and values. */
function chunksOf(writes: PendingOutput[], maxBytes: number): PendingOutput[][] {
  const chunks: PendingOutput[][] = [];
  let current: PendingOutput[] = [];
  let bytes = 0;
  for (const w of writes) {
    const size = sizeOf(w.message.value) + sizeOf(w.message.key) + 64;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(w);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function headerText(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === undefined ? undefined : Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const v = headerText(value);
    if (v !== undefined) text[name] = v;
  }
  return text;
}

/**
 * Consume-transform-produce on kafkajs, exactly once: each batch's outputs, state changes, dead letters
 * and input offsets commit in one Kafka transaction of the task's own transactional producer
 * (`<group>.task-<n>`). A new owner's InitProducerId fences the previous one (the pre-KIP-447 way:
 * kafkajs' TxnOffsetCommit carries no group generation). No Nest in here; see the platform's transport.
 */
export class KafkaRuntime {
  readonly groupId: string;
  private readonly handlers: Map<string, RecordHandler<unknown>>;
  private readonly codecs = new Map<string, Codec>();
  private readonly internal = new Map<string, InternalTopic>();
  private readonly storeNames: string[];
  private readonly tuning: Omit<RuntimeDefaults, 'changelogConfigs'>;
  private readonly metrics: RuntimeMetrics;
  private readonly logger: Logger;
  private readonly tasks = new Map<number, Task>();
  private readonly punctuators: Array<{ intervalMs: number; run: Punctuator; timer?: NodeJS.Timeout }> = [];
  private readonly backoffTimers = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private readonly unclassifiedAttempts = new Map<string, number>();
  private consumer?: Consumer;
  private admin?: Admin;
  private generation = 0;
  private memberId?: string;
  private assigned = new Set<number>();
  private taskCount = 0;
  private stopping = false;
  private started = false;

  constructor(private readonly options: KafkaRuntimeOptions) {
    // Its consumers and changelog restores must never see aborted records, whoever built the Kafka client.
    installReadCommittedFilter();
    this.groupId = options.groupId ?? options.service;
    this.handlers = new Map(options.handlers instanceof Map ? options.handlers : Object.entries(options.handlers)) as Map<
      string,
      RecordHandler<unknown>
    >;
    this.storeNames = options.stores ?? [];
    const t = options.tuning ?? {};
    this.tuning = {
      consumer: { ...runtimeDefaults.consumer, ...t.consumer },
      producer: { ...runtimeDefaults.producer, ...t.producer },
      backoff: { ...runtimeDefaults.backoff, ...t.backoff },
      unclassifiedErrorAttempts: t.unclassifiedErrorAttempts ?? runtimeDefaults.unclassifiedErrorAttempts,
      shutdownGraceMs: t.shutdownGraceMs ?? runtimeDefaults.shutdownGraceMs,
      lagRefreshMs: t.lagRefreshMs ?? runtimeDefaults.lagRefreshMs,
    };
    this.metrics = new RuntimeMetrics(options.metrics);
    this.logger = options.logger.child({ component: 'kafka-runtime', groupId: this.groupId });
    for (const topic of options.internalTopics ?? []) this.internal.set(topic.name, topic);
    for (const topic of this.handlers.keys()) {
      if (!this.resolveTopic(topic)) throw new Error(`handler for ${topic}: not a catalog topic, nor in avroTopics or internalTopics`);
    }
  }

  /** The compacted topic behind a store. */
  changelogTopic(store: string): string {
    return `${this.options.service}.${store}-changelog`;
  }

  /**
   * Registers a periodic punctuation: every `intervalMs`, `run(task, context)` for each task this
   * instance runs, in the task's own transaction (emits and store writes commit together).
   */
  punctuate(intervalMs: number, run: Punctuator): void {
    const punctuator = { intervalMs, run };
    this.punctuators.push(punctuator);
    if (this.started && !this.stopping) this.schedulePunctuation(punctuator);
  }

  /** Tasks this instance owns and runs now (for tests, health and punctuations). */
  ownedTasks(): number[] {
    return [...this.tasks.values()].filter((t) => t.state === 'running').map((t) => t.id);
  }

  /** Creates missing DLQ, internal and changelog topics, joins the group and starts consuming. */
  async start(): Promise<void> {
    if (this.started) throw new Error('runtime already started');
    this.started = true;
    const { kafka } = this.options;
    this.admin = kafka.admin();
    await this.admin.connect();
    await this.ensureTopics();

    const c = this.tuning.consumer;
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      partitionAssigners: [coPartitionedAssigner],
      sessionTimeout: c.sessionTimeoutMs,
      rebalanceTimeout: c.rebalanceTimeoutMs,
      heartbeatInterval: c.heartbeatIntervalMs,
      maxWaitTimeInMs: c.maxWaitTimeInMs,
      maxBytesPerPartition: c.maxBytesPerPartition,
      readUncommitted: false,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.onAssignment(payload.memberId, payload.memberAssignment);
    });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // A batch of only control records (transaction markers) never reaches eachBatch: move past it.
      if (payload.batchSize === 0) {
        const task = this.tasks.get(payload.partition);
        const next = BigInt(payload.lastOffset) + 1n;
        if (task && (task.positions.get(payload.topic) ?? -1n) < next) task.positions.set(payload.topic, next);
      }
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts the consumer after retriable crashes; anything else leaves it dead.
      if (!payload.restart || this.isAccessFailure(payload.error)) void this.fail(payload.error);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.handlers.keys()], fromBeginning: c.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: c.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload.batch, payload.resolveOffset, payload.heartbeat),
    });
    for (const punctuator of this.punctuators) if (!punctuator.timer) this.schedulePunctuation(punctuator);
    this.lagTimer = setInterval(() => void this.refreshLag().catch(() => undefined), this.tuning.lagRefreshMs);
    this.logger.info('runtime started', { topics: [...this.handlers.keys()], stores: this.storeNames, tasks: this.taskCount });
  }

  /**
   * Stops fetching, lets the batch in flight finish (or aborts its transaction once the grace period is
   * over), leaves the group and closes every producer. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.stopDeadline = Date.now() + this.tuning.shutdownGraceMs;
    for (const p of this.punctuators) clearTimeout(p.timer);
    clearInterval(this.lagTimer);
    for (const timer of this.backoffTimers) clearTimeout(timer);
    this.backoffTimers.clear();
    // kafkajs' disconnect stops the fetch loop, waits for the batch in flight and sends LeaveGroup.
    await this.consumer?.disconnect().catch((err) => this.logger.warn('consumer did not disconnect cleanly', { err }));
    await Promise.all([...this.tasks.values()].map((task) => this.closeTask(task)));
    await this.admin?.disconnect().catch(() => undefined);
    this.logger.info('runtime closed');
  }

  private isAccessFailure(err: unknown): boolean {
    const kind = classifyKafkaError(err);
    return kind === 'authentication' || kind === 'authorization';
  }

  private failed = false;

  /** A failure no retry fixes: close, then tell the owner (which exits the process). */
  private async fail(err: unknown): Promise<void> {
    if (this.failed || this.stopping) return;
    this.failed = true;
    const error = err instanceof Error ? err : new Error(String(err));
    this.logger.error('kafka runtime stopped: unrecoverable failure', { kind: classifyKafkaError(err), err: error });
    await this.close().catch(() => undefined);
    this.options.onFatal?.(error);
  }

  private resolveTopic(topic: string): boolean {
    return this.codecFor(topic) !== undefined;
  }

  private codecFor(topic: string): Codec | undefined {
    let codec = this.codecs.get(topic);
    if (codec) return codec;
    const schema = this.options.avroTopics?.find((t) => t.name === topic)?.schema ?? topicByName(topic)?.schema;
    if (schema) codec = { kind: 'avro', schema, deserializer: this.options.codec.deserializerFor(schema) };
    else if (this.internal.has(topic) || this.storeNames.some((s) => this.changelogTopic(s) === topic)) codec = { kind: 'json' };
    if (codec) this.codecs.set(topic, codec);
    return codec;
  }

  private async ensureTopics(): Promise<void> {
    const admin = this.admin!;
    const specs: TopicSpec[] = [];
    for (const topic of this.internal.values()) {
      specs.push({
        name: topic.name,
        partitions: topic.partitions,
        configs: { 'cleanup.policy': topic.cleanupPolicy ?? 'delete', ...topic.configs },
      });
    }
    // Internal topics first: an input may be one of them, and its partition count decides the tasks.
    if (specs.length > 0) await applyTopics(admin, specs);
    const inputs = [...this.handlers.keys()];
    const metadata = await admin.fetchTopicMetadata({ topics: inputs });
    this.taskCount = Math.max(0, ...metadata.topics.map((t) => t.partitions.length));

    const more: TopicSpec[] = [];
    for (const input of inputs) {
      const catalog = topicByName(input);
      if (catalog) more.push(topicLayout(catalog)[1]);
      else more.push({ name: dlqTopicOf(input), partitions: DLQ_PARTITIONS, configs: { 'cleanup.policy': 'delete', 'retention.ms': String(DLQ_RETENTION_MS) } });
    }
    for (const store of this.storeNames) {
      more.push({ name: this.changelogTopic(store), partitions: this.taskCount, configs: { ...runtimeDefaults.changelogConfigs } });
    }
    // Only create what is missing: DLQs of catalog topics are `topics:apply`'s to manage.
    const existing = new Set(await admin.listTopics());
    const missing = more.filter((s) => !existing.has(s.name));
    if (missing.length > 0) await applyTopics(admin, missing);
    for (const store of this.storeNames) {
      const [changelog] = (await admin.fetchTopicMetadata({ topics: [this.changelogTopic(store)] })).topics;
      if (changelog.partitions.length < this.taskCount) {
        throw new Error(`${changelog.name} has ${changelog.partitions.length} partitions, the inputs ${this.taskCount}: stores would not be co-partitioned`);
      }
    }
  }

  // ---- tasks -------------------------------------------------------------------------------------

  private onAssignment(memberId: string, assignment: Record<string, number[]>): void {
    // Same member id: we took part in every generation since the last join (a member that misses one is
    // evicted and rejoins with a new id), so a task assigned both times was never anyone else's.
    const continuous = memberId === this.memberId;
    this.memberId = memberId;
    const generation = ++this.generation;
    const owned = new Set(Object.values(assignment).flat());
    this.assigned = owned;
    const starting: Task[] = [];
    for (const task of [...this.tasks.values()]) {
      // Otherwise someone else may have run it in between and its memory is stale: rebuild it (the new
      // producer fences the old one, so a batch still in flight on it cannot commit).
      const keep = continuous && owned.has(task.id) && task.state !== 'fenced' && task.state !== 'closed';
      if (!keep) {
        this.tasks.delete(task.id);
        void this.closeTask(task);
      }
    }
    for (const id of owned) {
      if (this.tasks.has(id)) continue;
      const task = new Task(id, `${this.groupId}.task-${id}`, generation);
      this.tasks.set(id, task);
      starting.push(task);
    }
    // Partitions paused when an earlier task was fenced flow again under the new task.
    const resumable = Object.entries(assignment)
      .map(([topic, partitions]) => ({ topic, partitions: partitions.filter((p) => starting.some((t) => t.id === p)) }))
      .filter((tp) => tp.partitions.length > 0);
    if (resumable.length > 0) this.consumer?.resume(resumable);
    if (starting.length > 0) this.startTasks(starting);
    this.logger.info('assignment', { generation, tasks: [...owned].sort((a, b) => a - b), starting: starting.map((t) => t.id) });
  }

  private startTasks(tasks: Task[]): void {
    const init = Promise.all(tasks.map((task) => this.initTask(task)));
    const restored = init.then(async () => {
      const stores = tasks.flatMap((task) => [...task.stores.values()]);
      const records = await restoreStores(this.options.kafka, this.admin!, this.groupId, stores, this.logger);
      for (const task of tasks) {
        if (task.state === 'starting') task.state = 'running';
        // Revoked while starting: its producer came up after closeTask looked for it.
        else await task.producer?.disconnect().catch(() => undefined);
        this.failures.delete(`start:${task.id}`);
      }
      this.logger.info('tasks ready', { tasks: tasks.map((t) => t.id), restoredRecords: records });
    });
    for (const task of tasks) {
      task.ready = restored.catch((err) => {
        if (this.isAccessFailure(err)) {
          void this.fail(err);
          throw err;
        }
        this.logger.error('task failed to start; retrying after a backoff', { task: task.id, err });
        // Paused meanwhile, or kafkajs would refetch its unresolved batches in a tight loop.
        this.consumer?.pause(this.partitionsOf(task.id));
        void this.closeTask(task);
        this.retryStart(task);
        throw err;
      });
      task.ready.catch(() => undefined);
    }
  }

  private partitionsOf(task: number): Array<{ topic: string; partitions: number[] }> {
    return [...this.handlers.keys()].map((topic) => ({ topic, partitions: [task] }));
  }

  /** A task that failed to start (broker or coordinator trouble) is started again while still assigned. */
  private retryStart(failed: Task): void {
    const key = `start:${failed.id}`;
    const attempt = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempt);
    const b = this.tuning.backoff;
    const timer = setTimeout(() => {
      this.backoffTimers.delete(timer);
      if (this.stopping || this.tasks.get(failed.id) !== failed) return;
      const task = new Task(failed.id, failed.transactionalId, this.generation);
      this.tasks.set(task.id, task);
      this.startTasks([task]);
      this.consumer?.resume(this.partitionsOf(task.id));
    }, Math.min(b.maxMs, b.initialMs * b.multiplier ** (attempt - 1)));
    this.backoffTimers.add(timer);
  }

  /** InitProducerId fences every earlier producer of this task and aborts its open transaction. */
  private async initTask(task: Task): Promise<void> {
    task.producer = this.createProducer(task);
    await task.producer.connect();
    const fence = await task.producer.transaction();
    await fence.abort(); // nothing sent: only InitProducerId went out
    // Offsets committed by earlier owners are final now; the consumer may have read them before.
    const committed = await this.admin!.fetchOffsets({ groupId: this.groupId, topics: [...this.handlers.keys()] });
    for (const { topic, partitions } of committed) {
      const mine = partitions.find((p) => p.partition === task.id);
      if (mine && BigInt(mine.offset) >= 0n) task.positions.set(topic, BigInt(mine.offset));
    }
    for (const name of this.storeNames) task.stores.set(name, new TaskStore(name, this.changelogTopic(name), task.id));
  }

  private createProducer(task: Task): Producer {
    const p = this.tuning.producer;
    const { producer, forget } = producerWithCachedCoordinators(this.options.kafka, {
      transactionalId: task.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: p.transactionTimeoutMs,
      retry: { retries: p.retries },
    });
    task.forgetCoordinators = forget;
    return producer;
  }

  /** `fromInside`: called by the task's own batch or punctuation, which must not wait for itself. */
  private async closeTask(task: Task, fromInside = false): Promise<void> {
    if (task.state !== 'fenced') task.state = 'closed';
    for (const topic of this.handlers.keys()) this.metrics.consumerLag.remove({ topic, partition: String(task.id) });
    // Let a transaction in flight end first (it cannot commit now: the task is no longer running).
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.tuning.shutdownGraceMs)));
    if (!fromInside) await Promise.race([task.exclusive(async () => undefined), grace]);
    clearTimeout(timer);
    await task.producer?.disconnect().catch(() => undefined);
  }

  private async fenceTask(task: Task, err: unknown): Promise<void> {
    this.logger.warn('task fenced: a newer owner took it over; dropping its state until the next assignment', { task: task.id, err });
    task.state = 'fenced';
    if (this.tasks.get(task.id) === task) this.tasks.delete(task.id);
    this.consumer?.pause(this.partitionsOf(task.id));
    await this.closeTask(task, true);
    // A fenced owner normally hears of the rebalance within a heartbeat. If no new assignment came
    // within a session timeout and the task is still ours, whoever fenced us was the stray one.
    const generation = this.generation;
    const timer = setTimeout(() => {
      this.backoffTimers.delete(timer);
      if (this.stopping || this.generation !== generation || !this.assigned.has(task.id) || this.tasks.has(task.id)) return;
      const again = new Task(task.id, task.transactionalId, generation);
      this.tasks.set(again.id, again);
      this.startTasks([again]);
      this.consumer?.resume(this.partitionsOf(task.id));
    }, this.tuning.consumer.sessionTimeoutMs);
    this.backoffTimers.add(timer);
  }

  // ---- batches -----------------------------------------------------------------------------------

  private async onBatch(batch: Batch, resolveOffset: (offset: string) => void, heartbeat: () => Promise<void>): Promise<void> {
    if (this.stopping) return;
    const task = this.tasks.get(batch.partition);
    if (!task) return; // not (or no longer) ours: unresolved, refetched by whoever owns it
    const beat = setInterval(() => void heartbeat().catch(() => undefined), this.tuning.consumer.heartbeatIntervalMs);
    try {
      await task.ready;
    } catch {
      return;
    } finally {
      clearInterval(beat);
    }
    if (task.state !== 'running' || this.stopping) return;
    await task.exclusive(() => this.processBatch(task, batch, resolveOffset));
  }

  private async processBatch(task: Task, batch: Batch, resolveOffset: (offset: string) => void): Promise<void> {
    if (task.state !== 'running' || this.stopping) return;
    const { topic, partition } = batch;
    const position = task.positions.get(topic);
    const last = BigInt(batch.lastOffset());
    if (position !== undefined && last < position) {
      // Fetched from before what an earlier owner committed: skip straight to the committed position.
      resolveOffset(String(position - 1n));
      return;
    }
    const messages = batch.messages.filter((m) => position === undefined || BigInt(m.offset) >= position);
    const work = new UnitOfWork(task, (t) => this.resolveTopic(t));
    try {
      const handled = await this.handleMessages(topic, partition, messages, work);
      await this.commit(task, work, { topic, partition, offset: last + 1n });
      task.positions.set(topic, last + 1n);
      resolveOffset(String(last));
      this.failures.delete(`${topic}:${partition}`);
      for (const m of messages) this.unclassifiedAttempts.delete(`${topic}:${partition}:${m.offset}`);
      this.metrics.recordsIn.inc({ topic }, handled);
      this.metrics.consumerLag.set({ topic, partition: String(partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - last - 1n)));
    } catch (err) {
      await this.abandon(task, work, err, { topic, partition });
    }
  }

  /** Decodes and handles each record; returns how many were handled (the rest were dead-lettered). */
  private async handleMessages(topic: string, partition: number, messages: KafkaMessage[], work: UnitOfWork): Promise<number> {
    const codec = this.codecFor(topic)!;
    const live = messages.filter((m) => m.value !== null); // tombstones carry no event
    const decoded = await this.decode(codec, topic, live);
    const handler = this.handlers.get(topic)!;
    const context = work.context();
    let handled = 0;
    for (let i = 0; i < live.length; i++) {
      if (this.stopping && Date.now() > this.stopDeadline) throw new RetryBatchError(new Error('shutting down'));
      const message = live[i];
      const result = decoded[i];
      if (!result.ok) {
        if (result.error.retriable) throw new RetryBatchError(result.error);
        this.deadLetter(work, topic, partition, message, result.error);
        continue;
      }
      const headers = textHeaders(message.headers);
      const trace = startRecordSpan(`process ${topic}`, headers[TRACEPARENT], {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.kafka.destination.partition': partition,
        'messaging.kafka.message.offset': message.offset,
      });
      const record: InboundRecord<unknown> = {
        topic,
        partition,
        offset: message.offset,
        key: message.key ? message.key.toString('utf8') : null,
        value: result.value,
        headers,
        timestamp: Number(message.timestamp),
      };
      const timer = this.metrics.handlerSeconds.startTimer({ topic });
      try {
        await handler(record, context);
        const encoded = await this.encodeAll(work.takeRecordOutputs(), trace);
        work.keepRecord(encoded);
        handled++;
      } catch (err) {
        work.dropRecord();
        trace.span.recordException(err as Error);
        const verdict = classify(err);
        const attemptsKey = `${topic}:${partition}:${message.offset}`;
        if (verdict === 'retry') throw new RetryBatchError(err);
        if (verdict === 'unclassified') {
          const attempts = (this.unclassifiedAttempts.get(attemptsKey) ?? 0) + 1;
          this.unclassifiedAttempts.set(attemptsKey, attempts);
          if (attempts < this.tuning.unclassifiedErrorAttempts) throw new RetryBatchError(err);
          this.logger.error('handler kept failing with an unclassified error: dead-lettering the record', { topic, partition, offset: message.offset, attempts, err });
        }
        this.deadLetter(work, topic, partition, message, err);
      } finally {
        timer();
        trace.span.end();
      }
    }
    return handled;
  }

  private stopDeadline = Number.POSITIVE_INFINITY;
  private lagTimer?: NodeJS.Timeout;

  /** Lag of every owned partition from its end offset and the committed position (or its start if none). */
  private async refreshLag(): Promise<void> {
    const running = [...this.tasks.values()].filter((t) => t.state === 'running');
    if (running.length === 0 || this.stopping) return;
    for (const topic of this.handlers.keys()) {
      const offsets = await this.admin!.fetchTopicOffsets(topic);
      for (const task of running) {
        const partition = offsets.find((o) => o.partition === task.id);
        if (!partition) continue;
        const position = task.positions.get(topic) ?? BigInt(partition.low);
        const lag = BigInt(partition.high) - position;
        this.metrics.consumerLag.set({ topic, partition: String(task.id) }, Number(lag > 0n ? lag : 0n));
      }
    }
  }

  private async decode(codec: Codec, topic: string, messages: KafkaMessage[]) {
    if (codec.kind === 'avro') return codec.deserializer.decodeAll(messages.map((m) => m.value!));
    return messages.map((m) => {
      try {
        return { ok: true as const, value: JSON.parse(m.value!.toString('utf8')) as unknown };
      } catch (err) {
        return { ok: false as const, error: new JsonDecodeError(topic, err) };
      }
    });
  }

  private async encodeAll(records: OutboundRecord[], trace: RecordTrace | undefined): Promise<PendingOutput[]> {
    const encoded: PendingOutput[] = [];
    for (const record of records) {
      const codec = this.codecFor(record.topic)!;
      const value =
        codec.kind === 'avro'
          ? (await this.options.codec.serializerFor(record.topic, codec.schema)).encode(record.value)
          : Buffer.from(JSON.stringify(record.value));
      const headers: IHeaders = { ...record.headers };
      if (trace && !headers[TRACEPARENT]) headers[TRACEPARENT] = trace.traceparent;
      encoded.push({ topic: record.topic, message: { key: record.key, value, headers } });
    }
    return encoded;
  }

  private deadLetter(work: UnitOfWork, topic: string, partition: number, message: KafkaMessage, err: unknown): void {
    const dlq = dlqTopicOf(topic);
    work.outputs.push({ topic: dlq, message: deadLetter({ topic, partition, message }, err, this.options.service, new Date()) });
    this.metrics.recordsDeadLettered.inc({ topic, error: errorClass(err) });
    this.logger.warn('record dead-lettered', { topic, partition, offset: message.offset, dlq, error: errorClass(err), message: (err as Error)?.message });
  }

  /** One transaction: outputs, changelog records, dead letters, then the input offset; commit. */
  private async commit(task: Task, work: UnitOfWork, offset?: { topic: string; partition: number; offset: bigint }): Promise<void> {
    const writes = [...work.outputs, ...work.changelogOutputs()];
    if (writes.length === 0 && !offset) return;
    if (task.state !== 'running') throw new TaskFencedError(task.id, new Error(`task is ${task.state}`));
    const endTimer = this.metrics.transactionSeconds.startTimer();
    const tx = await task.producer!.transaction();
    work.tx = tx;
    // kafkajs writes one record batch per partition per request, and the broker refuses a batch over
    // max.message.bytes (1 MiB by default): send in chunks well below it.
    for (const chunk of chunksOf(writes, this.tuning.producer.maxRequestBytes)) {
      const byTopic = new Map<string, Message[]>();
      for (const w of chunk) {
        const list = byTopic.get(w.topic) ?? [];
        list.push(w.partition === undefined ? w.message : { ...w.message, partition: w.partition });
        byTopic.set(w.topic, list);
      }
      await tx.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
    if (offset) {
      await tx.sendOffsets({
        consumerGroupId: this.groupId,
        topics: [{ topic: offset.topic, partitions: [{ partition: offset.partition, offset: String(offset.offset) }] }],
      });
    }
    await this.options.beforeCommit?.({ task: task.id, transactionalId: task.transactionalId });
    await tx.commit();
    endTimer();
    work.tx = undefined;
    work.applyToStores();
    this.metrics.transactions.inc({ result: 'commit' });
    for (const w of work.outputs) if (!w.topic.endsWith('.dlq')) this.metrics.recordsOut.inc({ topic: w.topic });
  }

  /** Rolls a failed unit of work back: abort, forget its state changes, then fence or back off. */
  private async abandon(task: Task, work: UnitOfWork, err: unknown, source?: { topic: string; partition: number }): Promise<void> {
    work.rollbackStores();
    task.forgetCoordinators();
    const fenced = isFencing(err) || err instanceof TaskFencedError;
    if (work.tx?.isActive()) {
      try {
        await work.tx.abort();
      } catch (abortErr) {
        if (!fenced && !isFencing(abortErr) && task.state === 'running') {
          // The producer is stuck mid-transaction: replace it; its InitProducerId aborts what is open.
          this.logger.warn('abort failed: replacing the task producer', { task: task.id, err: abortErr });
          await task.producer?.disconnect().catch(() => undefined);
          task.producer = this.createProducer(task);
          await task.producer.connect().catch(() => undefined);
        }
      }
    }
    if (work.tx) this.metrics.transactions.inc({ result: 'abort' });
    if (this.isAccessFailure(err instanceof RetryBatchError ? err.reason : err)) {
      void this.fail(err); // not awaited: closing waits for this very batch to return
      return;
    }
    if (fenced) {
      // Only the current task of that partition pauses it; an older, already replaced one just goes.
      if (this.tasks.get(task.id) === task) await this.fenceTask(task, err);
      else await this.closeTask(task, true);
      return;
    }
    if (this.stopping) {
      this.logger.info('batch in flight aborted for shutdown: nothing committed, the next owner starts from the last commit', { task: task.id, ...source });
      return;
    }
    if (task.state !== 'running' || !source) return;
    this.backOff(source.topic, source.partition, err instanceof RetryBatchError ? err.reason : err);
  }

  /** Pause the partition, wait with jitter, resume: kafkajs refetches from the last resolved offset. */
  private backOff(topic: string, partition: number, reason: unknown): void {
    const key = `${topic}:${partition}`;
    const attempt = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempt);
    const b = this.tuning.backoff;
    const ceiling = Math.min(b.maxMs, b.initialMs * b.multiplier ** (attempt - 1));
    const delay = Math.round(ceiling * (1 - b.jitter * Math.random()));
    this.metrics.retries.inc({ topic });
    this.logger.warn('retriable failure: partition paused, nothing committed', { topic, partition, attempt, delayMs: delay, error: errorClass(reason), message: (reason as Error)?.message });
    this.consumer?.pause([{ topic, partitions: [partition] }]);
    const timer = setTimeout(() => {
      this.backoffTimers.delete(timer);
      if (!this.stopping) this.consumer?.resume([{ topic, partitions: [partition] }]);
    }, delay);
    this.backoffTimers.add(timer);
  }

  // ---- punctuations ------------------------------------------------------------------------------

  private schedulePunctuation(punctuator: { intervalMs: number; run: Punctuator; timer?: NodeJS.Timeout }): void {
    punctuator.timer = setTimeout(async () => {
      const tasks = [...this.tasks.values()].filter((t) => t.state === 'running');
      await Promise.all(tasks.map((task) => task.exclusive(() => this.runPunctuation(task, punctuator.run))));
      if (!this.stopping) this.schedulePunctuation(punctuator);
    }, punctuator.intervalMs);
  }

  private async runPunctuation(task: Task, run: Punctuator): Promise<void> {
    if (task.state !== 'running' || this.stopping) return;
    const work = new UnitOfWork(task, (t) => this.resolveTopic(t));
    const trace = startRecordSpan('punctuate', undefined, { 'securecart.task': task.id });
    try {
      await run(task.id, work.context());
      work.keepRecord(await this.encodeAll(work.takeRecordOutputs(), trace));
      await this.commit(task, work);
    } catch (err) {
      this.logger.warn('punctuation failed: nothing committed, it runs again at the next interval', { task: task.id, err });
      await this.abandon(task, work, err);
    } finally {
      trace.span.end();
    }
  }
}
