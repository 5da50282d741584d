export * from './contractor-snapshot';
export * from './contractor.events';
