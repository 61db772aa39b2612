export { PlatformModule } from './platform.module';
export { bootstrapService } from './bootstrap';
export type { BootstrapOptions } from './bootstrap';
export { NestJsonLogger } from './nest-json-logger';
export { APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY, S3 } from './tokens';
export { KafkaTransportModule, attachKafkaTransport, KAFKA_TRANSPORT, REGISTRY_CODEC } from './kafka-transport.module';
export type { KafkaTransportOptions } from './kafka-transport.module';
export { KafkaRuntimeTransport, PassErrorsToRuntime, NestHandlerError } from './kafka-transport';
export type { KafkaRuntimeFactory } from './kafka-transport';
