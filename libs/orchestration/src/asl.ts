/**
 * The part of Amazon States Language (https://states-language.net/spec.html) the project's workflows
 * use, as types, plus a structural check. The same JSON file runs here and, unchanged, in AWS Step
 * Functions; anything outside this subset is refused at load time rather than misread at run time.
 */

export interface StateMachineDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, State>;
  /** Whole-execution limit; the execution fails with `States.Timeout` past it. */
  TimeoutSeconds?: number;
}

interface StateBase {
  Comment?: string;
  InputPath?: string | null;
  OutputPath?: string | null;
}

interface Transition {
  Next?: string;
  End?: boolean;
}

export interface Retrier {
  ErrorEquals: string[];
  /** Seconds before the first retry (default 1). */
  IntervalSeconds?: number;
  /** Retries after the first attempt (default 3; 0 never retries). */
  MaxAttempts?: number;
  /** Multiplier of the interval per retry (default 2). */
  BackoffRate?: number;
  /** Cap of one interval. */
  MaxDelaySeconds?: number;
  /** `FULL` draws each interval uniformly from [0, interval]. */
  JitterStrategy?: 'FULL' | 'NONE';
}

export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  /** Where `{Error, Cause}` goes in the input (default `$`: replaces it). */
  ResultPath?: string | null;
}

export interface TaskState extends StateBase, Transition {
  Type: 'Task';
  Resource: string;
  Parameters?: unknown;
  ResultSelector?: unknown;
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  Retry?: Retrier[];
  Catch?: Catcher[];
}

export interface PassState extends StateBase, Transition {
  Type: 'Pass';
  Parameters?: unknown;
  Result?: unknown;
  ResultPath?: string | null;
}

export interface WaitState extends StateBase, Transition {
  Type: 'Wait';
  Seconds?: number;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
}

/** One Choice rule: a comparison on `Variable`, or And/Or/Not of rules; top-level rules carry `Next`. */
export interface ChoiceRule {
  Variable?: string;
  And?: ChoiceRule[];
  Or?: ChoiceRule[];
  Not?: ChoiceRule;
  StringEquals?: string;
  StringEqualsPath?: string;
  BooleanEquals?: boolean;
  NumericEquals?: number;
  NumericLessThan?: number;
  NumericLessThanEquals?: number;
  NumericGreaterThan?: number;
  NumericGreaterThanEquals?: number;
  NumericGreaterThanEqualsPath?: string;
  NumericLessThanPath?: string;
  IsPresent?: boolean;
  Next?: string;
}

export interface ChoiceState extends StateBase {
  Type: 'Choice';
  Choices: ChoiceRule[];
  Default?: string;
}

export interface SucceedState extends StateBase {
  Type: 'Succeed';
}

export interface FailState {
  Type: 'Fail';
  Comment?: string;
  Error?: string;
  Cause?: string;
}

export type State = TaskState | PassState | WaitState | ChoiceState | SucceedState | FailState;

const COMPARISONS = [
  'StringEquals',
  'StringEqualsPath',
  'BooleanEquals',
  'NumericEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'NumericGreaterThanEqualsPath',
  'NumericLessThanPath',
  'IsPresent',
] as const;
export type Comparison = (typeof COMPARISONS)[number];
export const SUPPORTED_COMPARISONS: readonly string[] = COMPARISONS;

/** The definition uses something this interpreter does not run (or is malformed). */
export class UnsupportedDefinitionError extends Error {
  readonly retriable = false;
  constructor(readonly problems: string[]) {
    super(`state machine definition not supported: ${problems.join('; ')}`);
    this.name = 'UnsupportedDefinitionError';
  }
}

const STATE_TYPES = new Set(['Task', 'Pass', 'Wait', 'Choice', 'Succeed', 'Fail']);

function checkRule(rule: ChoiceRule, where: string, top: boolean, problems: string[]): void {
  const combinators = ['And', 'Or', 'Not'].filter((k) => k in rule);
  const comparisons = COMPARISONS.filter((k) => k in rule);
  const unknown = Object.keys(rule).filter((k) => !['Variable', 'Next', 'And', 'Or', 'Not', ...COMPARISONS].includes(k));
  if (unknown.length) problems.push(`${where}: unsupported choice operator(s) ${unknown.join(', ')}`);
  if (combinators.length + comparisons.length !== 1) problems.push(`${where}: exactly one comparison or And/Or/Not expected`);
  if (comparisons.length === 1 && typeof rule.Variable !== 'string') problems.push(`${where}: comparison without Variable`);
  if (top && typeof rule.Next !== 'string') problems.push(`${where}: top-level choice rule without Next`);
  if (!top && rule.Next !== undefined) problems.push(`${where}: nested choice rule with Next`);
  rule.And?.forEach((r, i) => checkRule(r, `${where}.And[${i}]`, false, problems));
  rule.Or?.forEach((r, i) => checkRule(r, `${where}.Or[${i}]`, false, problems));
  if (rule.Not) checkRule(rule.Not, `${where}.Not`, false, problems);
}

/**
 * Parses and checks a definition: known state types only, every transition names an existing state,
 * exactly one of Next/End on states that continue, Wait with exactly one duration field. Returns the
 * definition typed; throws {@link UnsupportedDefinitionError} listing every problem.
 */
export function parseDefinition(json: string | object): StateMachineDefinition {
  const def = (typeof json === 'string' ? JSON.parse(json) : json) as StateMachineDefinition;
  const problems: string[] = [];
  if (!def || typeof def !== 'object' || typeof def.StartAt !== 'string' || !def.States || typeof def.States !== 'object') {
    throw new UnsupportedDefinitionError(['expected an object with StartAt and States']);
  }
  const names = new Set(Object.keys(def.States));
  const target = (where: string, next: string | undefined) => {
    if (next !== undefined && !names.has(next)) problems.push(`${where}: transition to unknown state "${next}"`);
  };
  target('StartAt', def.StartAt);
  for (const [name, state] of Object.entries(def.States)) {
    const where = `States.${name}`;
    if (!STATE_TYPES.has(state.Type)) {
      problems.push(`${where}: state type ${String(state.Type)} not supported`);
      continue;
    }
    if (state.Type === 'Task' || state.Type === 'Pass' || state.Type === 'Wait') {
      if ((state.Next === undefined) === (state.End !== true)) problems.push(`${where}: exactly one of Next or End`);
      target(where, state.Next);
    }
    if (state.Type === 'Task') {
      if (typeof state.Resource !== 'string') problems.push(`${where}: Task without Resource`);
      for (const [i, c] of (state.Catch ?? []).entries()) target(`${where}.Catch[${i}]`, c.Next);
      for (const [i, r] of (state.Retry ?? []).entries()) {
        if (!Array.isArray(r.ErrorEquals) || r.ErrorEquals.length === 0) problems.push(`${where}.Retry[${i}]: ErrorEquals required`);
      }
    }
    if (state.Type === 'Wait') {
      const given = ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'].filter((k) => k in state);
      if (given.length !== 1) problems.push(`${where}: exactly one of Seconds, SecondsPath, Timestamp, TimestampPath`);
    }
    if (state.Type === 'Choice') {
      if (!Array.isArray(state.Choices) || state.Choices.length === 0) problems.push(`${where}: Choices required`);
      for (const [i, rule] of (state.Choices ?? []).entries()) {
        checkRule(rule, `${where}.Choices[${i}]`, true, problems);
        target(`${where}.Choices[${i}]`, rule.Next);
      }
      target(`${where}.Default`, state.Default);
    }
  }
  if (problems.length) throw new UnsupportedDefinitionError(problems);
  return def;
}

/** Task resources written as `${Name}` placeholders (CDK's definition substitutions), in order of appearance. */
export function resourcePlaceholders(def: StateMachineDefinition): string[] {
  const names = new Set<string>();
  for (const state of Object.values(def.States)) {
    if (state.Type !== 'Task') continue;
    const m = /^\$\{([A-Za-z0-9_]+)\}$/.exec(state.Resource);
    if (m) names.add(m[1]);
  }
  return [...names];
}
