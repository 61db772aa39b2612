import { bootstrapService } from '@app/platform';
import { FraudServiceModule } from './fraud-service.module';

void bootstrapService(
  { service: 'fraud-service', defaultHttpPort: 3002 },
  (config, logger) => FraudServiceModule.forRoot(config, logger),
  { kafkaTransport: true },
);
