import { Module } from '@nestjs/common';
import { ReadyController } from './ready.controller';

/** The ready-made forms catalog: the files shipped in assets/ready, the same for every account. */
@Module({
  controllers: [ReadyController],
  exports: [],
})
export class ReadyModule {}
