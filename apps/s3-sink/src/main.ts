import { bootstrapService } from '@app/platform';
import { S3SinkModule } from './s3-sink.module';

void bootstrapService({ service: 's3-sink', defaultHttpPort: 3003 }, (config, logger) =>
  S3SinkModule.forRoot(config, logger),
);
