// Types of s3.mjs: S3Proxy 4.0.0 (filesystem-nio2 backend) on 127.0.0.1, path-style, SigV4, region us-east-1.

export declare const S3PROXY_POM: string;
export declare const S3_REGION: 'us-east-1';
export declare const DEFAULT_ACCESS_KEY: string;
export declare const DEFAULT_SECRET_KEY: string;

export interface StartS3Options {
  /** Data dir: s3proxy.conf, blobs/ (the buckets), s3proxy.log, s3.json, s3.pid. Created if missing. */
  dataDir: string;
  /** Port on 127.0.0.1; 0 picks a free one. Default 9000. */
  port?: number;
  /** Default 'flinkfn-local'. */
  accessKey?: string;
  /** Default 'flinkfn-local-secret'. */
  secretKey?: string;
  /** Buckets to create if missing (also when a running server is reused). */
  buckets?: string[];
  /** 'reuse' (default): a server that already runs in dataDir is returned (reused: true); 'error': throw (code EALREADY). */
  ifRunning?: 'reuse' | 'error';
  /** Readiness timeout after the JVM is spawned (Maven resolution not included). Default 60000. */
  timeoutMs?: number;
  onProgress?: (line: string) => void;
  /** -Dmaven.repo.local for resolving the jar. */
  mavenRepoLocal?: string;
  /** An s3proxy jar-with-dependencies to use instead of Maven's (also env FLINKFN_S3PROXY_JAR). */
  jar?: string;
  /** -Xmx of the JVM. Default '256m'. */
  heap?: string;
  jvmArgs?: string[];
}

export interface S3Info {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  pid: number;
  region: 'us-east-1';
  accessKey: string;
  secretKey: string;
  dataDir: string;
  logFile: string;
}

export interface RunningS3 extends S3Info {
  startMs: number;
  reused: boolean;
  stop(): Promise<void | StopS3Result>;
}

export interface StopS3Result {
  stopped: boolean;
  pids: number[];
  killed?: boolean;
  stopMs?: number;
}

export type S3StatusResult =
  | { running: false; dataDir: string; logFile: string }
  | ({ running: true; answering: boolean; why?: string } & S3Info);

/**
 * Starts S3Proxy and resolves once a SigV4-signed ListBuckets answers 200, then creates the missing buckets.
 * Errors carry `code` 'EADDRINUSE' (with `port`) when the port is taken, 'EALREADY' with ifRunning 'error'.
 */
export declare function startS3(options: StartS3Options): Promise<RunningS3>;
/** SIGTERM to the server's process group, SIGKILL after timeoutMs (default 15000). */
export declare function stopS3(options: { dataDir: string; timeoutMs?: number; onProgress?: (line: string) => void }): Promise<StopS3Result>;
export declare function s3Status(options: { dataDir: string }): Promise<S3StatusResult>;

export declare function resolveS3ProxyJar(options: {
  classpathFile?: string;
  jar?: string;
  mavenRepoLocal?: string;
  mvn?: string;
  refresh?: boolean;
  onProgress?: (line: string) => void;
}): Promise<string>;
export declare function s3proxyConf(options: { port: number; accessKey: string; secretKey: string; basedir: string }): string;
export declare function checkBucketName(name: string): string;

export interface S3RequestOptions {
  endpoint: string;
  method?: string;
  /** Path-style path, e.g. '/bucket/key'. */
  path?: string;
  query?: Record<string, string | number>;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  region?: string;
  accessKey?: string;
  secretKey?: string;
  timeoutMs?: number;
}
/** One SigV4-signed request; resolves for every HTTP status, rejects on network errors. */
export declare function s3Request(options: S3RequestOptions): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
export declare function probeS3(options: { endpoint: string; accessKey?: string; secretKey?: string; region?: string; timeoutMs?: number }): Promise<{ ok: boolean; why?: string }>;
export declare function ensureBuckets(options: {
  endpoint: string;
  buckets: string[];
  accessKey?: string;
  secretKey?: string;
  region?: string;
  onProgress?: (line: string) => void;
}): Promise<string[]>;
