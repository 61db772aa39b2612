import { Global, Module, type DynamicModule, type INestApplication, type INestMicroservice } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { createSchemaRegistry, RegistryCodec } from '@app/codec';
import type { AppConfig } from '@app/config';
import { classifyKafkaError } from '@app/kafka';
import type { Logger } from '@app/logging';
import { KafkaRuntime, type KafkaRuntimeOptions } from '@app/runtime';
import { KafkaRuntimeTransport, PassErrorsToRuntime } from './kafka-transport';
import { APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY } from './tokens';

/** The service's `RegistryCodec` (provided by `KafkaTransportModule`). */
export const REGISTRY_CODEC = Symbol('REGISTRY_CODEC');
/** The service's `KafkaRuntimeTransport` (provided by `KafkaTransportModule`). */
export const KAFKA_TRANSPORT = Symbol('KAFKA_TRANSPORT');

/** What an app declares about its Kafka processing; handlers come from its `@EventPattern`s. */
export type KafkaTransportOptions = Pick<KafkaRuntimeOptions, 'groupId' | 'internalTopics' | 'avroTopics' | 'stores' | 'tuning'> & {
  /** Register writer schemas on first use (local, tests); production registers them in CI. Default true. */
  autoRegister?: boolean;
};

/**
 * Provides the service's `RegistryCodec` (REGISTRY_CODEC) and its Kafka transport (KAFKA_TRANSPORT),
 * built on the platform's Kafka client, logger and metrics registry. Import after `PlatformModule`;
 * `bootstrapService(..., { kafkaTransport: true })` (or `attachKafkaTransport(app)`) attaches it.
 */
@Global()
@Module({})
export class KafkaTransportModule {
  static forRoot(options: KafkaTransportOptions = {}): DynamicModule {
    const { autoRegister = true, ...runtimeOptions } = options;
    return {
      module: KafkaTransportModule,
      providers: [
        {
          provide: REGISTRY_CODEC,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister }),
        },
        {
          provide: KAFKA_TRANSPORT,
          inject: [APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY, REGISTRY_CODEC],
          useFactory: (config: AppConfig, kafka: Kafka, logger: Logger, metrics: Registry, codec: RegistryCodec) =>
            new KafkaRuntimeTransport(
              (handlers) =>
                new KafkaRuntime({
                  ...runtimeOptions,
                  kafka,
                  codec,
                  logger,
                  metrics,
                  service: config.service,
                  handlers,
                  // Refused credentials or permissions: no retry helps, so the process ends (77 = EX_NOPERM).
                  onFatal: (err) => {
                    const kind = classifyKafkaError(err);
                    process.stderr.write(`${config.service}: ${err.message}\n`);
                    process.exit(kind === 'other' ? 70 : 77);
                  },
                }),
            ),
        },
      ],
      exports: [REGISTRY_CODEC, KAFKA_TRANSPORT],
    };
  }
}

/** NestMicroservice's own steps, public on the class but not on INestMicroservice. */
interface DeferredMicroservice {
  registerListeners(): void;
  setIsInitialized(value: boolean): void;
  setIsInitHookCalled(value: boolean): void;
}

/**
 * Connects the app's Kafka transport as a Nest microservice (errors passed through unchanged so the
 * runtime can classify them). `bootstrapService` starts it once the HTTP port is open.
 */
export function attachKafkaTransport(app: INestApplication): KafkaRuntimeTransport {
  const strategy = app.get<KafkaRuntimeTransport>(KAFKA_TRANSPORT);
  // Its own app config (HTTP's global filters stay HTTP's), and deferred so the filter is in place
  // before Nest builds the handler proxies; then the steps Nest would have run (without re-running
  // the modules' init hooks).
  const microservice = app.connectMicroservice({ strategy }, { deferInitialization: true }) as INestMicroservice & DeferredMicroservice;
  microservice.useGlobalFilters(new PassErrorsToRuntime());
  microservice.registerListeners();
  microservice.setIsInitialized(true);
  microservice.setIsInitHookCalled(true);
  return strategy;
}
