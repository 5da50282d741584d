export * from './common';
export * from './contractors';
export * from './documents';
export * from './events';
export * from './interactions';
export * from './organization/organization.types';
export * from './topics';
export * from './organization/organization.dto';
