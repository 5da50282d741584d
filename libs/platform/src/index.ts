export * from './config';
export * from './errors';
export * from './http-app';
export * from './http-error.filter';
export * from './validation';
export * from './service-modules';
export * from './storage';
export * from './idempotency';
