import 'reflect-metadata';
import { runMain } from '@papka/platform';
import { bootstrap } from './bootstrap';

runMain('finance-sync', () => bootstrap());
