// Types of stack.mjs (the local stack behind `flinkfn local` and the default deploy target).
export interface StackEndpoints {
  root: string;
  flink: { restUrl: string };
  kafka: { bootstrapServers: string };
  s3: { endpoint: string; bucket: string; region: string; accessKey: string; secretKey: string };
}
export function startStack(options: { root: string; ports?: { flinkRest?: number; kafka?: number; s3?: number }; bucket?: string; onProgress?: (line: string) => void; timeoutMs?: number }): Promise<StackEndpoints & { services: Record<string, unknown>; startMs: number }>;
export function stopStack(options: { root: string }): Promise<{ stopped: string[] }>;
export function stackStatus(options: { root: string }): Promise<{ up: boolean; services: Record<string, { running: boolean }>; endpoints?: StackEndpoints }>;
export function stackLogs(options: { root: string; service?: 'flink' | 'kafka' | 's3'; lines?: number }): Promise<Array<{ service: string; file: string; lines: string[] }>>;
export function checkPrerequisites(): Promise<void> | void;
