import { z } from 'zod';
import { baseEnvSchema, dataEnvSchema, envBoolean, loadConfig, portSchema, storageEnvSchema } from '@papka/platform';

export const documentsEnvSchema = baseEnvSchema
  .merge(dataEnvSchema)
  .merge(storageEnvSchema)
  .merge(portSchema(3002))
  .extend({
    HOST: z.string().default('0.0.0.0'),
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
    /** Largest upload in bytes (413 above). */
    UPLOAD_LIMIT_BYTES: z.coerce.number().int().min(1024).default(25 * 1024 * 1024),
    /** This replica renders documents (a renderer-only Deployment can scale separately). */
    RENDER_ENABLED: envBoolean(true),
    /**
     * The browser that renders. Unset (or empty): chrome-headless-shell from the npm package
     * @sparticuz/chromium, unpacked into the temp dir at start-up (resolveBrowserPath). A path
     * pins another, e.g. Debian's /usr/bin/chromium.
     */
    CHROMIUM_PATH: z.string().optional(),
    RENDER_PAGES: z.coerce.number().int().min(1).max(32).optional(),
    RENDER_QUEUE_LIMIT: z.coerce.number().int().min(1).default(64),
    RENDER_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
    /** Documents rendered at once (default two per pool page: one in Chromium, one reading its data or storing its file). */
    RENDER_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
    /** Render requests this replica holds (rendering, waiting or backing off); the consumer waits while it is full. */
    RENDER_BACKLOG: z.coerce.number().int().min(1).max(10_000).default(64),
    /** How often a renderer looks for documents left pending by a replica that died (0: never). */
    RENDER_SWEEP_MS: z.coerce.number().int().min(0).default(30_000),
    /** A document pending this long without a change counts as left behind by the sweep. */
    RENDER_STALE_MS: z.coerce.number().int().min(1_000).default(120_000),
    /** How long a shutdown lets this replica start the renders it holds; the rest go back to the bus for other replicas. */
    RENDER_DRAIN_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
    /** How often a replica removes stored files that no document or upload refers to (0: never). */
    FILE_SWEEP_MS: z.coerce.number().int().min(0).default(6 * 3600_000),
    /** Only files older than this are removed by the sweep: a put whose row is not committed yet keeps its file. */
    FILE_SWEEP_GRACE_MS: z.coerce.number().int().min(1_000).default(24 * 3600_000),
    /** A constructor call or list naming a contractor not yet in the read model (created a moment ago) waits this long for its event, then 404. */
    REPLICA_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(3_000),
    /** A download of a document still rendering waits this long before answering 409. */
    DOWNLOAD_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  });

export type DocumentsConfig = z.infer<typeof documentsEnvSchema>;
export const CONFIG = Symbol('DOCUMENTS_CONFIG');
export const loadDocumentsConfig = (env: NodeJS.ProcessEnv = process.env): DocumentsConfig => loadConfig(documentsEnvSchema, env);
