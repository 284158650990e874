/** A manual invalidation request: the `Authorization` header and the parsed JSON body. */
export interface ManualRequest {
  authorization: string | undefined;
  body: unknown;
}

/** What `POST /invalidations` needs: a request in, the accepted id and its paths out. */
export interface ManualRequests {
  requestManual(request: ManualRequest): Promise<{ id: string; paths: string[] }>;
}
