export * from './dadata';
export * from './adesk';
export * from './billing';
export * from './moysklad';
export * from './dms';
