export { PlatformModule } from './platform.module';
export { bootstrapService } from './bootstrap';
export { NestJsonLogger } from './nest-json-logger';
export { APP_CONFIG, KAFKA, LOGGER, METRICS_REGISTRY, S3 } from './tokens';
