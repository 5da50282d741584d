export * from './finance.events';
export * from './billing.events';
