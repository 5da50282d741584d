export * from './paging';
export * from './responses';
export * from './validators';
export * from './lists';
