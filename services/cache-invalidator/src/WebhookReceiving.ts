/** One webhook delivery as it came off the wire: the event from the URL, the body's bytes, the signature header. */
export interface WebhookDelivery {
  event: string;
  rawBody: Buffer;
  signature: string | undefined;
}

/** What the webhook route needs: a delivery in, the accepted event's id and planned paths out. */
export interface WebhookReceiving {
  receiveWebhook(delivery: WebhookDelivery): Promise<{ id: string; paths: string[] }>;
}
