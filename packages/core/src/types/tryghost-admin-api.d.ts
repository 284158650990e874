// The SDK ships no types; this covers the part the adapter uses.
declare module '@tryghost/admin-api' {
  export interface RequestOptions {
    url: string;
    method: string;
    data?: unknown;
    params?: Record<string, unknown>;
    headers?: Record<string, string>;
  }

  interface BrowseResult<T> extends Array<T> {
    meta: { pagination: { page: number; limit: number | 'all'; pages: number; total: number; next: number | null } };
  }

  interface Resource<T> {
    browse(options?: Record<string, unknown>): Promise<BrowseResult<T>>;
    read(data: { id?: string; slug?: string } & Record<string, unknown>, options?: Record<string, unknown>): Promise<T>;
    add(data: Record<string, unknown>, options?: Record<string, unknown>): Promise<T>;
    edit(data: Record<string, unknown>, options?: Record<string, unknown>): Promise<T>;
    delete(data: { id: string }, options?: Record<string, unknown>): Promise<void>;
  }

  export interface GhostAdminApi {
    posts: Resource<Record<string, unknown>>;
    pages: Resource<Record<string, unknown>>;
    tags: Resource<Record<string, unknown>>;
    webhooks: Pick<Resource<Record<string, unknown>>, 'add' | 'edit' | 'delete'>;
    site: { read(): Promise<Record<string, unknown>> };
  }

  export interface GhostAdminApiOptions {
    url: string;
    key: string;
    version: string | boolean;
    userAgent?: string | boolean;
    makeRequest?: (options: RequestOptions) => Promise<unknown>;
    generateToken?: (key: string, audience: string) => string;
  }

  function GhostAdminAPI(options: GhostAdminApiOptions): GhostAdminApi;
  export default GhostAdminAPI;
}
