export { createS3Client, sseKmsParams } from './s3-client';
export { ObjectExistsError, ObjectNotFoundError, ObjectStoreUnavailableError } from './object-store';
export type { ObjectInfo, ObjectStore, PutOptions, PutResult } from './object-store';
export { createObjectStore, parseLakeUrl } from './create-object-store';
export type { LakeLocation } from './create-object-store';
export { FileObjectStore } from './file-object-store';
export { S3ObjectStore, isRetriableS3Error } from './s3-object-store';
export { objectStoreDefaults, objectStoreTestDefaults, backoffDelayMs } from './object-store-defaults';
export type { ObjectStoreOptions } from './object-store-defaults';
