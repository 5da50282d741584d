export * from './dadata';
