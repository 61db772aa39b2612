import type { LoggerService } from '@nestjs/common';
import type { Logger } from '@app/logging';

/** Sends Nest's own log lines (bootstrap, routes, exceptions) through the service's JSON logger. */
export class NestJsonLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info(String(message), { context });
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn(String(message), { context });
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug(String(message), { context });
  }
  verbose(message: unknown, context?: string): void {
    this.logger.debug(String(message), { context });
  }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    this.logger.error(String(message), context ? { context, stack: stackOrContext } : { context: stackOrContext });
  }
}
