export * from './finance.events';
