/**
 * The HS256 secret of the embedded mode and local development only. Any deployment sets
 * AUTH_JWT_SECRET; services refuse to start with this value when NODE_ENV=production.
 */
export const DEV_JWT_SECRET = 'papka-development-secret-do-not-use-in-production';
