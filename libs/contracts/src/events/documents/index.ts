export * from './document-snapshot';
export * from './document.events';
