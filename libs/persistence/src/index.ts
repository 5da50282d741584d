export * from './data-source';
export * from './errors';
export * from './migrate-cli';
export * from './migrations';
export * from './snake-naming.strategy';
export * from './upsert-versioned';
export * from './instants';
