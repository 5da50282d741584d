export * from './errors';
export * from './http-client';
export * from './retry-after';
