export * from './document-types';
