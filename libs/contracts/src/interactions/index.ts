export * from './interaction-types';
export * from './interactions.dto';
