export * from './envelope';
export * from './contractors';
export * from './documents';
export * from './organization/organization.events';
export * from './interactions';
export * from './finance';
