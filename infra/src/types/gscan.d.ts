// gscan ships no types; this covers the part the theme check uses.
declare module 'gscan' {
  export interface GscanFailure {
    ref: string;
    message?: string;
  }

  export interface GscanResult {
    code: string;
    level: 'error' | 'warning' | 'recommendation';
    fatal?: boolean;
    rule: string;
    details?: string;
    failures?: GscanFailure[];
  }

  export interface GscanTheme {
    name?: string;
    results: {
      error: GscanResult[];
      warning: GscanResult[];
      recommendation: GscanResult[];
      hasFatalErrors: boolean;
    };
  }

  export interface GscanOptions {
    checkVersion?: string;
    themeName?: string;
  }

  const gscan: {
    check(themePath: string, options?: GscanOptions): Promise<unknown>;
    format(theme: unknown, options?: GscanOptions): GscanTheme;
  };
  export default gscan;
}
