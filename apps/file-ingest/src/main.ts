import { bootstrapService } from '@app/platform';
import { FileIngestModule } from './file-ingest.module';

void bootstrapService({ service: 'file-ingest', defaultHttpPort: 3006 }, (config, logger) => FileIngestModule.forRoot(config, logger));
