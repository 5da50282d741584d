import { Module } from '@nestjs/common';
import { ReplicasModule } from '../replicas/replicas.module';
import { InteractionsController } from './interactions.controller';
import { InteractionsRepository } from './interactions.repository';
import { InteractionsService } from './interactions.service';

@Module({
  imports: [ReplicasModule],
  controllers: [InteractionsController],
  providers: [InteractionsRepository, InteractionsService],
})
export class InteractionsModule {}
