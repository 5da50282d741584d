import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

const storage = new AsyncLocalStorage<{ traceId: string }>();

/** Runs `fn` with a trace id that every event written inside it will carry. */
export const runWithTrace = <T>(traceId: string, fn: () => T): T => storage.run({ traceId }, fn);

/** The current request's trace id (the gateway's request id), or a fresh one. */
export const currentTraceId = (): string => storage.getStore()?.traceId ?? randomUUID();
