export * from './auth.guard';
export * from './auth.module';
export * from './dev-secret';
export * from './tokens';
