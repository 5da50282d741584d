export * from './finance-types';
export * from './finance.dto';
