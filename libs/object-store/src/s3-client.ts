import { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStoreConfig } from '@app/config';

/** The S3 client every service uses: AWS S3 in production, the local S3 server in development. */
export function createS3Client(config: ObjectStoreConfig): S3Client {
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: config.credentials,
    // Bounded retries with the SDK's own jittered backoff; callers decide what to do after that.
    maxAttempts: 5,
  });
}

/** Server-side encryption parameters every write carries (SSE-KMS, the platform's default). */
export function sseKmsParams(config: ObjectStoreConfig): {
  ServerSideEncryption: 'aws:kms';
  SSEKMSKeyId?: string;
} {
  return config.kmsKeyId
    ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: config.kmsKeyId }
    : { ServerSideEncryption: 'aws:kms' };
}
