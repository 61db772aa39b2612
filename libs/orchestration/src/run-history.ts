/**
 * Durable run history: one JSON document per execution in the lake, under
 * `<prefix>/<workflow>/<startedAt>_<name>.json`, rewritten as the execution moves on. The lake rather
 * than a local file because the workflow runs wherever it is started (a laptop, a container, a
 * scheduled task) and a container's disk disappears with it; the lake is already durable, encrypted
 * (SSE-KMS) and reachable from every host, and `file://` lakes keep it on disk for users without S3.
 */
import { ObjectNotFoundError, type ObjectStore } from '@app/object-store';
import type { ExecutionEvent, ExecutionResult } from './interpreter';

export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface RunRecord {
  workflow: string;
  /** Execution name, unique per run. */
  name: string;
  status: RunStatus;
  trigger: string;
  input: unknown;
  startedAt: string;
  stoppedAt?: string;
  durationMs?: number;
  /** The state the execution is in (or failed in). */
  state?: string;
  output?: unknown;
  error?: string;
  cause?: string;
  /** Task attempts that failed (retried or not). */
  failedAttempts: number;
  events: ExecutionEvent[];
}

export class RunHistory {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix = 'batch/_runs/',
  ) {}

  keyOf(record: Pick<RunRecord, 'workflow' | 'name' | 'startedAt'>): string {
    return `${this.prefix}${record.workflow}/${record.startedAt.replace(/[:.]/g, '-')}_${record.name}.json`;
  }

  /**
   * A recorder for one execution: `onEvent` keeps the document current (written on every state change,
   * so a crashed run is visible as RUNNING in the state it died in), `finish` writes the final one.
   */
  recorder(workflow: string, name: string, trigger: string, startedAt: string, input: unknown, onWriteError: (err: unknown) => void = () => undefined) {
    const record: RunRecord = { workflow, name, status: 'RUNNING', trigger, input, startedAt, failedAttempts: 0, events: [] };
    const key = this.keyOf(record);
    let writes: Promise<void> = Promise.resolve();
    // Writes go one after the other (the last one wins); a failed one does not stop the next.
    const save = () => {
      const body = Buffer.from(JSON.stringify(record, null, 2));
      writes = writes.catch(() => undefined).then(() => this.store.put(key, body, { contentType: 'application/json' }).then(() => undefined));
      return writes;
    };
    return {
      key,
      record,
      onEvent: async (event: ExecutionEvent) => {
        record.events.push(event);
        if (event.type === 'StateEntered') record.state = event.state;
        if (event.type === 'TaskFailed') record.failedAttempts++;
        // Writes only where a person watching would want to see progress, not for every event.
        // A progress write that fails (S3 briefly down) must not fail the workflow: the final write tells.
        if (event.type === 'StateEntered' || event.type === 'RetryScheduled' || event.type === 'ErrorCaught' || event.type === 'ExecutionStarted') {
          await save().catch(onWriteError);
        }
      },
      finish: async (result: ExecutionResult) => {
        record.status = result.status;
        record.stoppedAt = result.stoppedAt;
        record.durationMs = Date.parse(result.stoppedAt) - Date.parse(result.startedAt);
        record.output = result.output;
        record.error = result.error;
        record.cause = result.cause;
        await save();
        return record;
      },
    };
  }

  /** Runs of a workflow (all workflows when omitted), newest first. */
  async list(workflow?: string, limit = 50): Promise<RunRecord[]> {
    const keys = (await this.store.list(workflow ? `${this.prefix}${workflow}/` : this.prefix))
      .map((o) => o.key)
      .filter((k) => k.endsWith('.json'))
      .sort((a, b) => runSortKey(b).localeCompare(runSortKey(a)))
      .slice(0, limit);
    const records: RunRecord[] = [];
    for (const key of keys) {
      try {
        records.push(JSON.parse((await this.store.get(key)).toString('utf8')) as RunRecord);
      } catch (err) {
        if (!(err instanceof ObjectNotFoundError)) throw err;
      }
    }
    return records;
  }
}

function runSortKey(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
