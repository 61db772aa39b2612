/**
 * Runs an Amazon States Language state machine locally with the semantics of AWS Step Functions for
 * the states our workflows use (see {@link parseDefinition}): Task (with Retry: interval, backoff rate,
 * max delay, jitter; Catch with ResultPath; TimeoutSeconds), Choice, Wait, Pass, Succeed, Fail,
 * InputPath/Parameters/ResultSelector/ResultPath/OutputPath. Tasks are plain async functions looked up by
 * their Resource (or the `${Name}` placeholder CDK substitutes with an ARN on AWS). Every step is reported
 * as an event, which the run history stores.
 */
import {
  parseDefinition,
  resourcePlaceholders,
  type Catcher,
  type ChoiceRule,
  type Retrier,
  type State,
  type StateMachineDefinition,
  type TaskState,
} from './asl';
import { systemClock, type Clock } from './clock';
import { applyResultPath, hasPath, readPath, resolveTemplate, selectPath, StatesRuntimeError } from './json-path';

export interface TaskContext {
  executionName: string;
  stateName: string;
  /** 0 on the first attempt, then 1, 2, ... on retries. */
  retryCount: number;
}

/** A Task's implementation: gets the state's effective input, returns its result (JSON-serialisable). */
export type TaskHandler = (input: unknown, context: TaskContext) => Promise<unknown>;

export type ExecutionEvent =
  | { type: 'ExecutionStarted'; at: string; input: unknown }
  | { type: 'StateEntered'; at: string; state: string; stateType: State['Type'] }
  | { type: 'TaskSucceeded'; at: string; state: string; retryCount: number; millis: number }
  | { type: 'TaskFailed'; at: string; state: string; retryCount: number; error: string; cause: string; millis: number }
  | { type: 'RetryScheduled'; at: string; state: string; error: string; retryCount: number; delayMs: number }
  | { type: 'ErrorCaught'; at: string; state: string; error: string; next: string }
  | { type: 'ChoiceMade'; at: string; state: string; next: string }
  | { type: 'WaitStarted'; at: string; state: string; delayMs: number }
  | { type: 'StateExited'; at: string; state: string }
  | { type: 'ExecutionSucceeded'; at: string; output: unknown }
  | { type: 'ExecutionFailed'; at: string; error: string; cause: string; state?: string };

export interface ExecutionResult {
  name: string;
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: string;
  cause?: string;
  startedAt: string;
  stoppedAt: string;
  events: ExecutionEvent[];
}

export interface RunOptions {
  /** Execution name (unique per run; part of the context object as `$$.Execution.Name`). */
  name: string;
  input: unknown;
  onEvent?: (event: ExecutionEvent) => void | Promise<void>;
}

export interface InterpreterOptions {
  /** Resource (ARN or `${Name}` placeholder name) → implementation. */
  tasks: Record<string, TaskHandler>;
  clock?: Clock;
  /** Uniform [0, 1) source for `JitterStrategy: FULL`. */
  random?: () => number;
  /** Bound on state transitions, so a definition that loops forever stops (Step Functions: 25,000 events). */
  maxTransitions?: number;
}

/** A state failed with this error name and cause (the shape Step Functions gives Catch). */
class StateError extends Error {
  constructor(
    readonly error: string,
    readonly cause_: string,
  ) {
    super(`${error}: ${cause_}`);
  }
}

/** The error name a thrown value has for Retry/Catch: its `name` (class), as Lambda reports `errorType`. */
export function errorNameOf(err: unknown): string {
  if (err instanceof StateError) return err.error;
  if (err instanceof Error) return err.name && err.name !== 'Error' ? err.name : 'Error';
  return 'Error';
}

function causeOf(err: unknown): string {
  if (err instanceof StateError) return err.cause_;
  return err instanceof Error ? err.message : String(err);
}

/** Whether an ErrorEquals list matches an error name (Step Functions' rules for the `States.` names). */
export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  // States.Runtime is never retried or caught: the definition or the data is wrong.
  if (error === 'States.Runtime') return false;
  return errorEquals.some((e) => e === error || e === 'States.ALL' || (e === 'States.TaskFailed' && error !== 'States.Timeout'));
}

/** The delay before retry number `retryCount` (0-based) of a retrier, in ms. */
export function retryDelayMs(retrier: Retrier, retryCount: number, random: () => number = Math.random): number {
  const interval = (retrier.IntervalSeconds ?? 1) * 1000;
  let delay = interval * (retrier.BackoffRate ?? 2) ** retryCount;
  if (retrier.MaxDelaySeconds !== undefined) delay = Math.min(delay, retrier.MaxDelaySeconds * 1000);
  if (retrier.JitterStrategy === 'FULL') delay = random() * delay;
  return Math.round(delay);
}

/** Evaluates one Choice rule against the state's input. */
export function evaluateRule(rule: ChoiceRule, input: unknown): boolean {
  if (rule.And) return rule.And.every((r) => evaluateRule(r, input));
  if (rule.Or) return rule.Or.some((r) => evaluateRule(r, input));
  if (rule.Not) return !evaluateRule(rule.Not, input);
  const variable = rule.Variable!;
  if (rule.IsPresent !== undefined) return hasPath(input, variable) === rule.IsPresent;
  // A comparison on a missing variable is a runtime error in Step Functions; a type mismatch is false.
  const value = readPath(input, variable);
  const num = typeof value === 'number' ? value : undefined;
  const other = (path: string) => readPath(input, path);
  if (rule.StringEquals !== undefined) return value === rule.StringEquals;
  if (rule.StringEqualsPath !== undefined) return typeof value === 'string' && value === other(rule.StringEqualsPath);
  if (rule.BooleanEquals !== undefined) return value === rule.BooleanEquals;
  if (num === undefined) return false;
  if (rule.NumericEquals !== undefined) return num === rule.NumericEquals;
  if (rule.NumericLessThan !== undefined) return num < rule.NumericLessThan;
  if (rule.NumericLessThanEquals !== undefined) return num <= rule.NumericLessThanEquals;
  if (rule.NumericGreaterThan !== undefined) return num > rule.NumericGreaterThan;
  if (rule.NumericGreaterThanEquals !== undefined) return num >= rule.NumericGreaterThanEquals;
  if (rule.NumericGreaterThanEqualsPath !== undefined) return num >= (other(rule.NumericGreaterThanEqualsPath) as number);
  if (rule.NumericLessThanPath !== undefined) return num < (other(rule.NumericLessThanPath) as number);
  return false;
}

export class StateMachineInterpreter {
  readonly definition: StateMachineDefinition;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(
    definition: StateMachineDefinition | string | object,
    private readonly options: InterpreterOptions,
  ) {
    this.definition = parseDefinition(definition);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    const missing = Object.values(this.definition.States)
      .filter((s): s is TaskState => s.Type === 'Task')
      .map((s) => this.resourceName(s.Resource))
      .filter((r) => !(r in options.tasks));
    if (missing.length) throw new Error(`no task implementation for resource(s): ${[...new Set(missing)].join(', ')}`);
  }

  /** The placeholders the definition's Task resources use (what CDK must substitute). */
  get placeholders(): string[] {
    return resourcePlaceholders(this.definition);
  }

  private resourceName(resource: string): string {
    return /^\$\{([A-Za-z0-9_]+)\}$/.exec(resource)?.[1] ?? resource;
  }

  async run({ name, input, onEvent }: RunOptions): Promise<ExecutionResult> {
    const events: ExecutionEvent[] = [];
    const startedAt = new Date(this.clock.now()).toISOString();
    const emit = async (event: ExecutionEvent) => {
      events.push(event);
      await onEvent?.(event);
    };
    const at = () => new Date(this.clock.now()).toISOString();
    const deadline = this.definition.TimeoutSeconds ? this.clock.now() + this.definition.TimeoutSeconds * 1000 : Infinity;
    const context = { Execution: { Name: name, Id: name, StartTime: startedAt, Input: input } };
    await emit({ type: 'ExecutionStarted', at: startedAt, input });

    let current = this.definition.StartAt;
    let data: unknown = input;
    const maxTransitions = this.options.maxTransitions ?? 25_000;
    const finish = async (result: Omit<ExecutionResult, 'name' | 'startedAt' | 'stoppedAt' | 'events'>): Promise<ExecutionResult> => {
      const stoppedAt = at();
      if (result.status === 'SUCCEEDED') await emit({ type: 'ExecutionSucceeded', at: stoppedAt, output: result.output });
      else await emit({ type: 'ExecutionFailed', at: stoppedAt, error: result.error!, cause: result.cause!, state: current });
      return { name, startedAt, stoppedAt, events, ...result };
    };

    for (let transitions = 0; ; transitions++) {
      if (transitions >= maxTransitions) return finish({ status: 'FAILED', error: 'States.Runtime', cause: `more than ${maxTransitions} state transitions` });
      if (this.clock.now() > deadline) return finish({ status: 'FAILED', error: 'States.Timeout', cause: `execution exceeded ${this.definition.TimeoutSeconds} s` });
      const state = this.definition.States[current];
      await emit({ type: 'StateEntered', at: at(), state: current, stateType: state.Type });
      try {
        const step = await this.step(current, state, data, context, emit, at);
        if (step.kind === 'fail') return finish({ status: 'FAILED', error: step.error, cause: step.cause });
        await emit({ type: 'StateExited', at: at(), state: current });
        data = step.output;
        if (step.next === undefined) return finish({ status: 'SUCCEEDED', output: data });
        current = step.next;
      } catch (err) {
        return finish({ status: 'FAILED', error: errorNameOf(err), cause: causeOf(err) });
      }
    }
  }

  private async step(
    name: string,
    state: State,
    rawInput: unknown,
    context: Record<string, unknown>,
    emit: (e: ExecutionEvent) => Promise<void>,
    at: () => string,
  ): Promise<{ kind: 'next'; output: unknown; next?: string } | { kind: 'fail'; error: string; cause: string }> {
    switch (state.Type) {
      case 'Succeed':
        return { kind: 'next', output: selectPath(selectPath(rawInput, state.InputPath, context), state.OutputPath, context) };
      case 'Fail':
        return { kind: 'fail', error: state.Error ?? 'States.Fail', cause: state.Cause ?? '' };
      case 'Pass': {
        const input = selectPath(rawInput, state.InputPath, context);
        const result = state.Result !== undefined ? state.Result : state.Parameters !== undefined ? resolveTemplate(state.Parameters, input, context) : input;
        const output = selectPath(applyResultPath(rawInput, result, state.ResultPath), state.OutputPath, context);
        return { kind: 'next', output, next: state.End ? undefined : state.Next };
      }
      case 'Wait': {
        const input = selectPath(rawInput, state.InputPath, context);
        let delayMs: number;
        if (state.Seconds !== undefined) delayMs = state.Seconds * 1000;
        else if (state.SecondsPath !== undefined) {
          const seconds = readPath(input, state.SecondsPath);
          if (typeof seconds !== 'number' || seconds < 0) throw new StatesRuntimeError(`${state.SecondsPath} is not a non-negative number`);
          delayMs = seconds * 1000;
        } else {
          const stamp = state.Timestamp ?? readPath(input, state.TimestampPath!);
          const target = Date.parse(String(stamp));
          if (Number.isNaN(target)) throw new StatesRuntimeError(`not a timestamp: ${String(stamp)}`);
          delayMs = Math.max(0, target - this.clock.now());
        }
        await emit({ type: 'WaitStarted', at: at(), state: name, delayMs });
        await this.clock.sleep(delayMs);
        return { kind: 'next', output: selectPath(input, state.OutputPath, context), next: state.End ? undefined : state.Next };
      }
      case 'Choice': {
        const input = selectPath(rawInput, state.InputPath, context);
        const rule = state.Choices.find((r) => evaluateRule(r, input));
        const next = rule?.Next ?? state.Default;
        if (next === undefined) return { kind: 'fail', error: 'States.NoChoiceMatched', cause: `no choice rule of ${name} matched and it has no Default` };
        await emit({ type: 'ChoiceMade', at: at(), state: name, next });
        return { kind: 'next', output: selectPath(input, state.OutputPath, context), next };
      }
      case 'Task':
        return this.task(name, state, rawInput, context, emit, at);
    }
  }

  private async task(
    name: string,
    state: TaskState,
    rawInput: unknown,
    context: Record<string, unknown>,
    emit: (e: ExecutionEvent) => Promise<void>,
    at: () => string,
  ): Promise<{ kind: 'next'; output: unknown; next?: string } | { kind: 'fail'; error: string; cause: string }> {
    const handler = this.options.tasks[this.resourceName(state.Resource)];
    const retriesUsed = new Map<Retrier, number>();
    for (let retryCount = 0; ; retryCount++) {
      const started = this.clock.now();
      let error: string;
      let cause: string;
      try {
        const input = selectPath(rawInput, state.InputPath, context);
        const stateContext = { ...context, State: { Name: name, EnteredTime: at(), RetryCount: retryCount } };
        const effective = state.Parameters !== undefined ? resolveTemplate(state.Parameters, input, stateContext) : input;
        let result = await this.withTimeout(handler(effective, { executionName: String((context.Execution as { Name: string }).Name), stateName: name, retryCount }), state.TimeoutSeconds);
        // Step Functions passes results through JSON: undefined becomes null, Dates become strings.
        result = result === undefined ? null : JSON.parse(JSON.stringify(result));
        if (state.ResultSelector !== undefined) result = resolveTemplate(state.ResultSelector, result, stateContext);
        await emit({ type: 'TaskSucceeded', at: at(), state: name, retryCount, millis: this.clock.now() - started });
        const output = selectPath(applyResultPath(rawInput, result, state.ResultPath), state.OutputPath, context);
        return { kind: 'next', output, next: state.End ? undefined : state.Next };
      } catch (err) {
        error = errorNameOf(err);
        cause = causeOf(err);
      }
      await emit({ type: 'TaskFailed', at: at(), state: name, retryCount, error, cause, millis: this.clock.now() - started });
      // The first retrier whose ErrorEquals matches decides; each retrier counts its own attempts.
      const retrier = (state.Retry ?? []).find((r) => errorMatches(r.ErrorEquals, error));
      if (retrier) {
        const used = retriesUsed.get(retrier) ?? 0;
        if (used < (retrier.MaxAttempts ?? 3)) {
          retriesUsed.set(retrier, used + 1);
          const delayMs = retryDelayMs(retrier, used, this.random);
          await emit({ type: 'RetryScheduled', at: at(), state: name, error, retryCount: retryCount + 1, delayMs });
          await this.clock.sleep(delayMs);
          continue;
        }
      }
      const catcher: Catcher | undefined = (state.Catch ?? []).find((c) => errorMatches(c.ErrorEquals, error));
      if (!catcher) return { kind: 'fail', error, cause };
      await emit({ type: 'ErrorCaught', at: at(), state: name, error, next: catcher.Next });
      return { kind: 'next', output: applyResultPath(rawInput, { Error: error, Cause: cause }, catcher.ResultPath), next: catcher.Next };
    }
  }

  private async withTimeout<T>(work: Promise<T>, timeoutSeconds: number | undefined): Promise<T> {
    if (!timeoutSeconds) return work;
    const timer = this.clock.timer(timeoutSeconds * 1000);
    try {
      return await Promise.race([
        work,
        timer.fired.then(() => {
          throw new StateError('States.Timeout', `task did not finish within ${timeoutSeconds} s`);
        }),
      ]);
    } finally {
      timer.cancel();
    }
  }
}
