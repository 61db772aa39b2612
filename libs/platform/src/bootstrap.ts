import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { ConfigError, loadConfig, redactConfig, type AppConfig, type ServiceIdentity } from '@app/config';
import type { Kafka } from 'kafkajs';
import { checkKafkaAuthentication, KafkaAuthenticationError } from '@app/kafka';
import { createLogger, type Logger } from '@app/logging';
import { attachKafkaTransport } from './kafka-transport.module';
import { NestJsonLogger } from './nest-json-logger';
import { startInBackground } from './start-in-background';
import { startTracing } from './tracing';
import { KAFKA } from './tokens';

export interface BootstrapOptions {
  /**
   * Attach the app's Kafka transport (`KafkaTransportModule.forRoot(...)` in the root module): its
   * `@EventPattern` handlers start consuming once the HTTP port is open, retried with back-off while
   * the broker cannot be reached.
   */
  kafkaTransport?: boolean;
  /** Runs right after the app is created, before the port opens (body limits, OpenAPI). */
  configure?: (app: INestApplication) => void | Promise<void>;
}

/**
 * Boots one service: validates the whole config (exiting with the bad variables named), starts the
 * JSON logger first, then the Nest app, with shutdown hooks so consumers leave their group on SIGTERM.
 */
export async function bootstrapService(
  identity: ServiceIdentity,
  rootModule: (config: AppConfig, logger: Logger) => DynamicModule,
  options: BootstrapOptions = {},
): Promise<void> {
  // A developer's .env fills in what the real environment leaves unset (never overrides it).
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: AppConfig;
  try {
    config = loadConfig(process.env, identity);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${identity.service}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger({ service: config.service }, config.logLevel);
  logger.info('starting', { config: redactConfig(config) });
  let root: DynamicModule;
  try {
    // Spans go to an OTLP collector only when one is configured (OTEL_EXPORTER_OTLP_*).
    const tracing = startTracing(config.service, process.env, logger);
    if (tracing) {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void tracing.flush().catch(() => undefined));
    }
    // Service-specific settings (validated with zod inside `rootModule`) fail at boot the same way.
    root = rootModule(config, logger);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${identity.service}: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const app = await NestFactory.create(root, { logger: new NestJsonLogger(logger) });
  app.enableShutdownHooks();
  await options.configure?.(app);
  if (options.kafkaTransport) attachKafkaTransport(app);
  // The port opens first: /health and /health/ready must answer while the broker is down.
  await app.listen(config.http.port, config.http.host);
  logger.info('listening', { url: `http://${config.http.host}:${config.http.port}` });
  // Refused Kafka credentials end the process naming the principal (77 = EX_NOPERM); a broker that is
  // merely down does not (readiness reports it, clients retry). Checked after the port opened, so the
  // check's own retries never keep /health closed.
  try {
    await checkKafkaAuthentication(app.get<Kafka>(KAFKA), {
      auth: config.kafka.auth,
      brokers: config.kafka.brokers,
      maxAttempts: config.kafka.authMaxAttempts,
      logger,
    });
  } catch (err) {
    if (err instanceof KafkaAuthenticationError) {
      process.stderr.write(`${identity.service}: ${err.message}\n`);
      process.exit(77);
    }
    logger.warn('kafka login could not be checked yet (broker unreachable?); consumers retry', { error: (err as Error).message });
  }
  if (options.kafkaTransport) {
    let stopping = false;
    process.once('SIGTERM', () => (stopping = true)).once('SIGINT', () => (stopping = true));
    await startInBackground('kafka transport', () => app.startAllMicroservices().then(() => undefined), logger, () => stopping);
  }
}
