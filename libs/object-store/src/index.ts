export { createS3Client, sseKmsParams } from './s3-client';
export { ObjectExistsError, ObjectNotFoundError, ObjectStoreUnavailableError } from './object-store';
export type { ObjectInfo, ObjectStore, PutOptions, PutResult } from './object-store';
