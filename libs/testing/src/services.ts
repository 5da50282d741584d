import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

/** Base URL of a started Nest app (services under test listen on port 0). */
export function baseUrl(app: INestApplication): string {
  const address = app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A tiny JSON client for tests, with a bearer token. */
export function apiClient(base: string, token?: string) {
  return async <T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    init: { headers?: Record<string, string>; raw?: string | Buffer } = {},
  ): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers };
    let payload: string | Buffer | undefined = init.raw;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    // undici rather than fetch: the reference sends findBank's query in a GET body.
    const res = await request(`${base}${path}`, { method: method as 'GET', headers, body: payload });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    const responseHeaders = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) responseHeaders.set(k, Array.isArray(v) ? v.join(', ') : v);
    return { status: res.statusCode, headers: responseHeaders, body: parsed as T };
  };
}

export interface UploadResult {
  status: number;
  body: { status: string; filename: string; code?: string };
}

/** `POST /v2/docs/upload` as a browser sends a file: multipart, one `file` part. */
export async function uploadFile(base: string, token: string, name: string, content: Buffer | string, type = 'application/octet-stream'): Promise<UploadResult> {
  const form = new FormData();
  form.append('file', new Blob([content], { type }), name);
  const res = await fetch(`${base}/v2/docs/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as UploadResult['body'] };
}
