/**
 * The orders-daily workflow's task implementations and a runner that executes the ASL definition in
 * `infra/workflows/orders-daily.asl.json` locally, keeping the run history in the lake. The same
 * implementations back the Lambda functions the Step Functions deployment calls.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Kafka, Producer } from 'kafkajs';
import { createSchemaRegistry, RegistryCodec } from '@app/codec';
import type { SchemaRegistryConfig } from '@app/config';
import { topics, type BatchCompleted, type BatchTable } from '@app/contracts';
import type { ObjectStore } from '@app/object-store';
import {
  RunHistory,
  scaledClock,
  StateMachineInterpreter,
  systemClock,
  type Clock,
  type ExecutionEvent,
  type RunRecord,
  type TaskHandler,
} from '@app/orchestration';
import type { BatchSettings } from './batch-settings';
import { catalogOrderTopics, checkDayReadiness, dayStartMillis, type OrderTopics } from './day-window';
import { buildOrdersDaily } from './orders-daily';
import { verifyOrdersDaily } from './verify';

export const ORDERS_DAILY_JOB = 'orders-daily';

/** The `${...}` placeholders of the ASL file: CDK substitutes Lambda ARNs, the local runner these tasks. */
export const ORDERS_DAILY_RESOURCES = {
  resolveDay: 'ResolveDayFunctionArn',
  checkCompaction: 'CheckCompactionFunctionArn',
  build: 'BuildOrdersDailyFunctionArn',
  verify: 'VerifyOrdersDailyFunctionArn',
  publish: 'PublishBatchCompletedFunctionArn',
} as const;

export interface WorkflowInput {
  job?: string;
  day?: string;
  force?: boolean;
  pollSeconds?: number;
  maxPolls?: number;
}

export interface OrdersDailyDeps {
  store: ObjectStore;
  kafka: Kafka;
  registry: SchemaRegistryConfig;
  settings: BatchSettings;
  /** Source topics (the catalog's by default). */
  topics?: OrderTopics;
  /** Where BatchCompleted goes (`batch.batch-completed.v1` by default). */
  completedTopic?: string;
  clock?: Clock;
  /** Lines a person reads while the run goes on. */
  onProgress?: (line: string) => void;
}

/** A v4-shaped UUID derived from a name: a retried publish of the same outcome has the same eventId. */
function uuidFrom(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Sends BatchCompleted events through the registry codec (idempotent producer, acks=all). */
export class BatchCompletedPublisher {
  private producer?: Promise<Producer>;
  private readonly codec: RegistryCodec;

  constructor(
    private readonly kafka: Kafka,
    registry: SchemaRegistryConfig,
    private readonly topic: string,
    autoRegister: boolean,
  ) {
    this.codec = new RegistryCodec(createSchemaRegistry(registry), { autoRegister });
  }

  async publish(event: BatchCompleted): Promise<{ topic: string; partition: number; offset: string }> {
    this.producer ??= (async () => {
      const p = this.kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
      await p.connect();
      return p;
    })();
    const producer = await this.producer;
    const value = await this.codec.encode(this.topic, topics.batchCompleted.schema, event);
    const [meta] = await producer.send({ topic: this.topic, acks: -1, messages: [{ key: event.job, value }] });
    return { topic: this.topic, partition: meta.partition, offset: String(meta.baseOffset) };
  }

  async close(): Promise<void> {
    if (this.producer) await (await this.producer).disconnect();
  }
}

/** The five task implementations, keyed by their ASL placeholder. */
export function ordersDailyTasks(deps: OrdersDailyDeps, publisher: BatchCompletedPublisher): Record<string, TaskHandler> {
  const { store, settings } = deps;
  const orderTopics = deps.topics ?? catalogOrderTopics;
  const clock = deps.clock ?? systemClock;
  const say = deps.onProgress ?? (() => undefined);
  return {
    [ORDERS_DAILY_RESOURCES.resolveDay]: async (raw) => {
      const { input, startedAt } = raw as { input: WorkflowInput; startedAt: string };
      // A scheduled run builds the day before the one it started in (UTC).
      const day = input.day ?? new Date(dayStartMillis(startedAt.slice(0, 10)) - 86_400_000).toISOString().slice(0, 10);
      dayStartMillis(day);
      return {
        job: input.job ?? ORDERS_DAILY_JOB,
        day,
        force: input.force ?? false,
        pollSeconds: input.pollSeconds ?? settings.pollSeconds,
        maxPolls: input.maxPolls ?? settings.maxPolls,
        compaction: { ready: false, attempts: 0 },
      };
    },
    [ORDERS_DAILY_RESOURCES.checkCompaction]: async (raw) => {
      const { day, attempts } = raw as { day: string; attempts: number };
      const report = await checkDayReadiness(store, orderTopics, day, {
        lookaheadHours: settings.lookaheadHours,
        readyAfterMs: settings.readyAfterMs,
        now: clock.now(),
      });
      say(
        report.ready
          ? `  ${day}: all ${report.hoursChecked} topic-hours compacted or empty (${report.compactedHours} with data)`
          : `  ${day}: waiting for ${report.waitingFor.map((w) => `${w.topic === '*' ? '' : `${w.topic} `}${w.hour}${w.detail ? ` (${w.detail})` : ''}`).slice(0, 3).join(', ')}${report.waitingFor.length > 3 ? ', …' : ''}`,
      );
      return { ready: report.ready, attempts: attempts + 1, waitingFor: report.waitingFor.slice(0, 5), readyAt: report.readyAt };
    },
    [ORDERS_DAILY_RESOURCES.build]: async (raw) => {
      const { day, force, runId } = raw as { day: string; force: boolean; runId: string };
      const result = await buildOrdersDaily(store, day, {
        topics: orderTopics,
        lookaheadHours: settings.lookaheadHours,
        workDir: settings.workDir,
        runId,
        force,
        now: () => clock.now(),
        onProgress: (m) => say(`  ${m}`),
      });
      return { fingerprint: result.inputFingerprint, inputRows: result.inputRows, tables: result.tables };
    },
    [ORDERS_DAILY_RESOURCES.verify]: async (raw) => {
      const { day } = raw as { day: string };
      const result = await verifyOrdersDaily(store, day, { topics: orderTopics, lookaheadHours: settings.lookaheadHours, workDir: settings.workDir });
      say(`  verified: ${result.orders} orders = ${result.placedInCurated} distinct orders placed in curated/; files match their manifests`);
      return { orders: result.orders, tables: result.tables.map(({ table, rows, files, manifestKey }) => ({ name: table, rows, files, manifestKey })) };
    },
    [ORDERS_DAILY_RESOURCES.publish]: async (raw) => {
      const input = raw as { job: string; day: string; runId: string; startedAt: string; status: 'SUCCEEDED' | 'FAILED'; tables?: BatchTable[]; error?: { Error: string; Cause: string } };
      const event: BatchCompleted = {
        eventId: uuidFrom(`${input.runId}/${input.status}`),
        occurredAt: new Date(clock.now()),
        producer: 'daily-batch',
        correlationId: input.runId,
        job: input.job,
        runId: input.runId,
        day: input.day,
        status: input.status,
        tables: input.tables ?? [],
        durationMs: Math.max(0, clock.now() - Date.parse(input.startedAt)),
        error: input.error ? `${input.error.Error}: ${input.error.Cause}`.slice(0, 2000) : null,
      };
      const at = await publisher.publish(event);
      say(`  published ${input.status} to ${at.topic} (partition ${at.partition}, offset ${at.offset})`);
      return { ...at, eventId: event.eventId };
    },
  };
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** One line per event a person cares about (nothing for StateExited and the like). */
export function describeEvent(event: ExecutionEvent): string | undefined {
  switch (event.type) {
    case 'StateEntered':
      return event.stateType === 'Task' ? `▶ ${event.state}` : undefined;
    case 'TaskSucceeded':
      return `  ✓ ${event.state} (${seconds(event.millis)})`;
    case 'TaskFailed':
      return `  ✗ ${event.state} attempt ${event.retryCount + 1}: ${event.error}: ${event.cause.split('\n')[0].slice(0, 300)}`;
    case 'RetryScheduled':
      return `  ↻ retrying ${event.state} in ${seconds(event.delayMs)}`;
    case 'ErrorCaught':
      return `  ↪ ${event.error} caught in ${event.state} → ${event.next}`;
    case 'ChoiceMade':
      return event.next === 'WaitForCompaction' ? undefined : `  → ${event.next}`;
    case 'WaitStarted':
      return `  … waiting ${seconds(event.delayMs)} before checking again`;
    case 'ExecutionSucceeded':
      return `SUCCEEDED`;
    case 'ExecutionFailed':
      return `FAILED: ${event.error}: ${event.cause}`;
    default:
      return undefined;
  }
}

export interface RunDayOptions {
  day?: string;
  force?: boolean;
  trigger?: string;
  pollSeconds?: number;
  maxPolls?: number;
}

/** Runs the ASL workflow locally, one execution per day, each recorded in the run history. */
export class OrdersDailyRunner {
  readonly history: RunHistory;
  private readonly publisher: BatchCompletedPublisher;
  private readonly interpreter: StateMachineInterpreter;
  private readonly clock: Clock;

  constructor(
    private readonly deps: OrdersDailyDeps,
    /** Task overrides by placeholder (tests inject failures here). */
    overrides: Record<string, (inner: TaskHandler) => TaskHandler> = {},
  ) {
    this.clock = deps.clock ?? (deps.settings.timeScale === 1 ? systemClock : scaledClock(deps.settings.timeScale));
    this.history = new RunHistory(deps.store, 'batch/_runs/');
    this.publisher = new BatchCompletedPublisher(deps.kafka, deps.registry, deps.completedTopic ?? topics.batchCompleted.name, deps.settings.autoRegisterSchema);
    const tasks = ordersDailyTasks({ ...deps, clock: this.clock }, this.publisher);
    for (const [name, wrap] of Object.entries(overrides)) tasks[name] = wrap(tasks[name]);
    this.interpreter = new StateMachineInterpreter(readFileSync(deps.settings.workflowFile, 'utf8'), { tasks, clock: this.clock });
  }

  async run(options: RunDayOptions = {}): Promise<RunRecord> {
    const trigger = options.trigger ?? 'manual';
    const startedAt = new Date(this.clock.now()).toISOString();
    // Step Functions execution names: at most 80 of [A-Za-z0-9-_].
    const name = `${ORDERS_DAILY_JOB}-${options.day ?? 'auto'}-${trigger}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`.slice(0, 80);
    const input: WorkflowInput = { job: ORDERS_DAILY_JOB, day: options.day, force: options.force ?? false, pollSeconds: options.pollSeconds, maxPolls: options.maxPolls };
    const say = this.deps.onProgress ?? (() => undefined);
    const recorder = this.history.recorder(ORDERS_DAILY_JOB, name, trigger, startedAt, input, (err) =>
      say(`  (run history not updated: ${(err as Error).message}; the final state is written at the end)`),
    );
    say(`${name}: orders-daily${options.day ? ` for ${options.day}` : ''} (run history ${this.deps.store.url}${recorder.key})`);
    const result = await this.interpreter.run({
      name,
      input,
      onEvent: async (event) => {
        await recorder.onEvent(event);
        const line = describeEvent(event);
        if (line) say(line);
      },
    });
    return recorder.finish(result);
  }

  async close(): Promise<void> {
    await this.publisher.close();
  }
}
