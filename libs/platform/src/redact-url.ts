/**
 * A request URL as it may be logged or put on a span: the last segment of an inbound webhook
 * path (`/v2/finance/webhooks/<target>/<hook token>`) is the connection's secret, since the
 * caller (Adesk) sends no other credential, so it must never reach an access log.
 */
export const redactUrl = (url: string): string => url.replace(/(\/v2\/finance\/webhooks\/[^/?#]+\/)[^/?#]+/, '$1[redacted]');
