import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@ghost-ha/core';
import { errorResponse } from './errorResponse.js';
import { RequestRejectedError } from './errors.js';
import type { WebhookReceiving } from './WebhookReceiving.js';

export const WEBHOOK_PREFIX = '/webhooks/ghost/';

/**
 * `POST /webhooks/ghost/<event>` on plain node:http: the hot path, kept free of framework layers
 * (Ghost can send bursts of deliveries, each waiting for the journal). Reads the raw body up to the
 * limit, hands it to the service, answers 202 once it is durable.
 */
export function createWebhookHandler(
  service: WebhookReceiving,
  settings: { maxBodyBytes: number; logger: Logger },
): (req: IncomingMessage, res: ServerResponse) => void {
  const log = settings.logger.child({ module: 'webhooks' });
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const fail = (error: unknown) => {
      const answer = errorResponse(error, { path, maxBodyBytes: settings.maxBodyBytes, log });
      send(res, answer.status, answer.body);
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > settings.maxBodyBytes) {
      // Answer at once and close: reading a body we will refuse only costs memory.
      res.setHeader('Connection', 'close');
      fail(Object.assign(new Error('too large'), { type: 'entity.too.large' }));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > settings.maxBodyBytes && !refused) {
        refused = true;
        res.setHeader('Connection', 'close');
        fail(Object.assign(new Error('too large'), { type: 'entity.too.large' }));
      }
      if (!refused) chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (refused) return;
      let event: string;
      try {
        event = decodeURIComponent(path.slice(WEBHOOK_PREFIX.length));
      } catch {
        fail(new RequestRejectedError(404, 'unknown_event', 'the event name in the path is not valid'));
        return;
      }
      const signature = req.headers['x-ghost-signature'];
      service
        .receiveWebhook({
          event,
          rawBody: Buffer.concat(chunks, size),
          signature: Array.isArray(signature) ? signature[0] : signature,
        })
        .then((result) => send(res, 202, { accepted: result.id, paths: result.paths }), fail);
    });
  };
}
