export * from './errors';
export * from './http-client';
export * from './retry-after';
export * from './url-guard';
