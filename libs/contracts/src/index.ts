export * from './common';
export * from './contractors';
export * from './events';
export * from './topics';
