export * from './document-types';
export * from './documents.dto';
