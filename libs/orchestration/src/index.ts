// Workflows in Amazon States Language, run locally (Step Functions semantics for the states we use),
// cron schedules and a durable run history (no Nest).
export { parseDefinition, resourcePlaceholders, SUPPORTED_COMPARISONS, UnsupportedDefinitionError } from './asl';
export type { Catcher, ChoiceRule, ChoiceState, Retrier, State, StateMachineDefinition, TaskState, WaitState } from './asl';
export { FakeClock, scaledClock, systemClock } from './clock';
export type { Clock } from './clock';
export { CronExpressionError, CronSchedule, CronScheduler } from './cron';
export { errorMatches, errorNameOf, evaluateRule, retryDelayMs, StateMachineInterpreter } from './interpreter';
export type { ExecutionEvent, ExecutionResult, InterpreterOptions, RunOptions, TaskContext, TaskHandler } from './interpreter';
export { applyResultPath, readPath, resolveTemplate, StatesRuntimeError } from './json-path';
export { RunHistory } from './run-history';
export type { RunRecord, RunStatus } from './run-history';
