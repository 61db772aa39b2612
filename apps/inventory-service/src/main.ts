import { bootstrapService } from '@app/platform';
import { InventoryServiceModule } from './inventory-service.module';

void bootstrapService(
  { service: 'inventory-service', defaultHttpPort: 3001 },
  (config, logger) => InventoryServiceModule.forRoot(config, logger),
  { kafkaTransport: true },
);
