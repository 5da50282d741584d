import { MessagingTables1763700000000 } from '@papka/messaging';
import { Contractors1763700000100 } from './1763700000100-contractors';

/** In order. The messaging tables (outbox, inbox) come first. */
export const migrations = [MessagingTables1763700000000, Contractors1763700000100];
