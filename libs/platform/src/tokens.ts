/** Injection tokens for infrastructure, so tests and tools can swap any of them. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const LOGGER = Symbol('LOGGER');
export const KAFKA = Symbol('KAFKA');
export const S3 = Symbol('S3');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
