export * from './contractor-type';
export * from './contractor.dto';
