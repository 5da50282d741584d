import { Module } from '@nestjs/common';
import { ReplicasModule } from '../replicas/replicas.module';
import { PaymentImportsEvents } from './payment-imports.events';
import { PaymentImportsRepository } from './payment-imports.repository';
import { PaymentsController } from './payments.controller';
import { PaymentsRepository } from './payments.repository';
import { PaymentsService } from './payments.service';

@Module({
  imports: [ReplicasModule],
  controllers: [PaymentsController, PaymentImportsEvents],
  providers: [PaymentsRepository, PaymentsService, PaymentImportsRepository],
})
export class PaymentsModule {}
