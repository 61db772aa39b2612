export { loadConfig, redactConfig, ConfigError } from './app-config';
export { configErrorFrom, envByteSize, envDuration, envFlag, envInteger, isBlank, parseByteSize, parseDurationMs } from './env-schemas';
export type {
  AppConfig,
  KafkaAuth,
  KafkaConfig,
  ObjectStoreConfig,
  SchemaRegistryConfig,
  ServiceIdentity,
} from './app-config';
