/** A manual invalidation request: the `Authorization` header and the parsed JSON body. */
export interface ManualRequest {
  authorization: string | undefined;
  body: unknown;
}

/** What `POST /invalidations` answers: the accepted id and its paths; `released`: the quarantine entries sent again. */
export interface ManualResult {
  id: string;
  paths: string[];
  released?: string[];
}

/** What `POST /invalidations` needs: a request in, the accepted id and its paths out. */
export interface ManualRequests {
  requestManual(request: ManualRequest): Promise<ManualResult>;
}
