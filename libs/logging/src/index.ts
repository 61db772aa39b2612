export { createLogger } from './logger';
export type { Logger, LogFields, LogLevel, LogWriter } from './logger';
