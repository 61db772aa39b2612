import { bootstrapService } from '@app/platform';
import { PartnerSftpModule } from './partner-sftp.module';

void bootstrapService({ service: 'partner-sftp', defaultHttpPort: 3007 }, (config, logger) => PartnerSftpModule.forRoot(config, logger));
