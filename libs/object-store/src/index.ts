export { createS3Client, sseKmsParams } from './s3-client';
