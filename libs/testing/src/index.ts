export * from './db';
export * from './fakes';
export * from './http';
export * from './infra';
export * from './kafka';
export * from './services';
export * from './process';
export * from './fake-commands';
