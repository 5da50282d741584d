import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { BillingController } from './billing.controller';
import { BillingImporter } from './billing.importer';
import { BillingRepository } from './billing.repository';
import { BillingService } from './billing.service';

/** The billing import (001): documents pulled on a schedule and on demand, and the API that lists them. */
@Module({
  imports: [ConnectionsModule],
  controllers: [BillingController],
  providers: [BillingRepository, BillingImporter, BillingService],
})
export class BillingModule {}
