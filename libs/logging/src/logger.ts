export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

/** Structured logger: one JSON object per line, the shape log shippers (CloudWatch, Loki) parse as is. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LogWriter = (line: string) => void;

const stdoutWriter: LogWriter = (line) => process.stdout.write(line + '\n');

function serializeError(err: Error): LogFields {
  return { name: err.name, message: err.message, stack: err.stack };
}

export function createLogger(
  base: LogFields & { service: string },
  minLevel: LogLevel = 'info',
  write: LogWriter = stdoutWriter,
): Logger {
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < RANK[minLevel]) return;
    const record: LogFields = { time: new Date().toISOString(), level, ...base, message };
    for (const [key, value] of Object.entries(fields ?? {})) {
      record[key] = value instanceof Error ? serializeError(value) : value;
    }
    write(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, minLevel, write),
  };
}
