export * from './envelope';
export * from './contractors';
