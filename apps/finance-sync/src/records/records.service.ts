import { Injectable } from '@nestjs/common';
import type { AccountContext } from '@papka/auth';
import type { RecordsQuery, RecordView, RetryRecordsDto } from '@papka/contracts';
import { fieldError } from '@papka/platform';
import { RecordsRepository } from './records.repository';

@Injectable()
export class RecordsService {
  constructor(private readonly repo: RecordsRepository) {}

  list(acc: AccountContext, q: RecordsQuery): Promise<RecordView[]> {
    return this.repo.list(acc.accountId, { ...q, page: q.page ?? 1, size: q.size ?? 50 });
  }

  /** `{ target, state: 'failed' }` or `{ target, ids }`: queued again at once, attempts from 0. */
  async retry(acc: AccountContext, dto: RetryRecordsDto): Promise<{ status: 'OK'; queued: number }> {
    if ((dto.state === undefined) === (dto.ids === undefined)) throw fieldError('state', 'give either state: "failed" or ids');
    return { status: 'OK', queued: await this.repo.retry(acc.accountId, dto.target, dto.ids ?? null) };
  }
}
