export { loadConfig, redactConfig, ConfigError } from './app-config';
export type {
  AppConfig,
  KafkaAuth,
  KafkaConfig,
  ObjectStoreConfig,
  SchemaRegistryConfig,
  ServiceIdentity,
} from './app-config';
