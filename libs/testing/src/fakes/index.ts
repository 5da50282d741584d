export * from './dadata';
export * from './adesk';
