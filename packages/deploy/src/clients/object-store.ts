/**
 * The target's S3 bucket, through @aws-sdk/client-s3: content-addressed artifacts, the deployment
 * registry and the state prefixes Flink writes. Missing objects read as null, deletes are idempotent.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { ResolvedTarget } from '../config.js';
import { hostLockDir, withHostLock } from './host-lock.js';

// The pinned SDK supports Node 20; its warning is about SDK releases after January 2027 and would land in
// every command's output (and in --json consumers' stderr). Users can still opt in by setting it to false.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export class ObjectStore {
  private readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  /** Set for an S3 server on loopback (S3Proxy): its conditional writes are serialised per key (see host-lock.ts). */
  private readonly lockDir: string | null;

  constructor(s3: ResolvedTarget['s3']) {
    this.bucket = s3.bucket;
    this.prefix = s3.prefix;
    this.lockDir = hostLockDir(s3.endpoint ?? null);
    this.client = new S3Client({
      region: s3.region,
      forcePathStyle: s3.forcePathStyle,
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      ...(s3.credentials ? { credentials: s3.credentials } : {}),
      maxAttempts: 3,
    });
  }

  /** `s3://bucket/<prefix><key>`: how Flink names the same object. */
  uri(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  /** Fails with the SDK's error when the bucket is missing or the credentials are refused. */
  async checkBucket(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async getText(key: string): Promise<string | null> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return (await response.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async putText(key: string, body: string, contentType = 'application/json'): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: body, ContentType: contentType }));
  }

  /**
   * A small document with its ETag, for compare-and-swap; null when missing. The body and the ETag must be
   * of the same version, or a compare-and-swap would succeed on stale content: S3Proxy's filesystem backend
   * can answer a read that races a write with one version's body and another's headers (seen as checksum
   * mismatches under concurrent attaches). So a read whose body fails its checksum, or whose MD5 differs from
   * a plain-MD5 ETag, is read again; a mismatch that persists means the ETag is not an MD5 (SSE-KMS on
   * Amazon S3, which has no torn reads) and is accepted.
   */
  async getVersioned(key: string): Promise<{ text: string; etag: string } | null> {
    let last: { text: string; etag: string } | null = null;
    for (let attempt = 0; attempt < 8; attempt++) {
      let response;
      let body: Uint8Array;
      try {
        response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
        body = (await response.Body?.transformToByteArray()) ?? new Uint8Array();
      } catch (error) {
        if (isNotFound(error)) return null;
        if (isChecksumMismatch(error)) continue;
        throw error;
      }
      if (!response.ETag) throw new Error(`the S3 server returned no ETag for ${this.uri(key)}; flinkfn needs conditional writes`);
      const read = { text: Buffer.from(body).toString('utf8'), etag: response.ETag };
      const md5 = /^"?([0-9a-f]{32})"?$/.exec(response.ETag)?.[1];
      if (!md5 || createHash('md5').update(body).digest('hex') === md5) return read;
      if (last && last.etag === read.etag && last.text === read.text) return read;
      last = read;
      await new Promise((resolve) => setTimeout(resolve, 20 + attempt * 20));
    }
    throw new Error(`${this.uri(key)} kept changing while being read; try again`);
  }

  /**
   * Writes `key` only if it is still at `etag` (or, with `etag` null, only if it does not exist): S3's
   * conditional writes (If-Match / If-None-Match), the atomic primitive every shared document relies on.
   * Returns the new ETag, or null when another writer got there first.
   */
  async putIfUnchanged(key: string, body: string, etag: string | null): Promise<string | null> {
    return this.serialised(key, async () => {
      try {
        const response = await this.client.send(new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: body,
          ContentType: 'application/json',
          ...(etag === null ? { IfNoneMatch: '*' } : { IfMatch: etag }),
        }));
        if (!response.ETag) throw new Error(`the S3 server returned no ETag for ${this.uri(key)}; flinkfn needs conditional writes`);
        return response.ETag;
      } catch (error) {
        // If-Match on a key that another writer has deleted meanwhile: S3 answers 404 NoSuchKey rather than 412.
        if (isPreconditionFailed(error) || (etag !== null && isNoSuchKey(error))) return null;
        throw error;
      }
    });
  }

  async putFile(key: string, file: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: await readFile(file), ContentType: 'application/octet-stream' }));
  }

  /** Serialised with conditional writes of the same key, so a delete never lands between a check and its write. */
  async delete(key: string): Promise<void> {
    await this.serialised(key, async () => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    });
  }

  private serialised<T>(key: string, request: () => Promise<T>): Promise<T> {
    return this.lockDir ? withHostLock(this.lockDir, `${this.bucket}/${this.prefix}${key}`, request) : request();
  }

  /** Keys (without the target prefix) under `keyPrefix`. */
  async list(keyPrefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + keyPrefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(this.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** Deletes every object under `keyPrefix`, then checks the prefix is empty; returns how many it deleted. */
  async deletePrefix(keyPrefix: string): Promise<number> {
    let deleted = 0;
    for (let round = 0; round < 5; round++) {
      const keys = await this.list(keyPrefix);
      if (keys.length === 0) return deleted;
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((key) => ({ Key: this.prefix + key })), Quiet: true } }));
        deleted += chunk.length;
      }
    }
    throw new Error(`objects keep appearing under ${this.uri(keyPrefix)}; is a job still writing there?`);
  }

  close(): void {
    this.client.destroy();
  }
}

function isChecksumMismatch(error: unknown): boolean {
  return error instanceof Error && /checksum mismatch/i.test(error.message);
}

function isPreconditionFailed(error: unknown): boolean {
  if (error instanceof S3ServiceException) {
    // 409 ConditionalRequestConflict: Amazon S3's answer when two conditional writes race.
    return error.$metadata.httpStatusCode === 412 || error.$metadata.httpStatusCode === 409 || error.name === 'PreconditionFailed';
  }
  return false;
}

/** The key is missing (not the bucket: a missing bucket stays an error). */
function isNoSuchKey(error: unknown): boolean {
  return error instanceof S3ServiceException && error.name === 'NoSuchKey';
}

function isNotFound(error: unknown): boolean {
  if (error instanceof S3ServiceException) {
    return error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey';
  }
  return false;
}
