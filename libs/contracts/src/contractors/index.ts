export * from './contractor-limits';
export * from './contractor-type';
export * from './contractor.dto';
