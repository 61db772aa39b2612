// The daily batch: orders_daily and sales_by_day from the curated order topics (DuckDB), the checks and
// the orders-daily workflow's tasks, run locally by @app/orchestration or as Lambda functions (no Nest).
export { batchDefaults, loadBatchSettings } from './batch-settings';
export type { BatchSettings } from './batch-settings';
export { catalogOrderTopics, checkDayReadiness, dayStartMillis, daysBetween, hourStates, hoursOf } from './day-window';
export type { HourState, OrderTopics, ReadinessReport } from './day-window';
export {
  BATCH_MANIFEST_VERSION,
  BATCH_TABLES,
  batchManifestKey,
  batchPartitionPrefix,
  buildOrdersDaily,
  fingerprintOf,
  inputManifests,
  ORDERS_DAILY_JOB_VERSION,
  readBatchManifest,
} from './orders-daily';
export type { BatchFile, BatchInput, BatchManifest, BatchTableName, BuildOptions, BuildResult, TableResult } from './orders-daily';
export { BatchVerificationError, verifyOrdersDaily } from './verify';
export type { VerifyResult } from './verify';
export {
  BatchCompletedPublisher,
  describeEvent,
  ORDERS_DAILY_JOB,
  ORDERS_DAILY_RESOURCES,
  OrdersDailyRunner,
  ordersDailyTasks,
} from './orders-daily-workflow';
export type { OrdersDailyDeps, RunDayOptions, WorkflowInput } from './orders-daily-workflow';
