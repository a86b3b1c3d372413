// The AWS SDK for JavaScript v3 (with @aws-sdk/lib-storage) against mock-s3: a full S3 session
// with default client settings, one check per line.
//
// Run by `cargo test -p mock-s3 --test conformance`, which starts the mock over TLS with SigV4
// on, runs `npm ci` here once per package-lock.json and sets the environment below. By hand,
// against a standalone mock (`cargo run -p mock-s3 -- --ca-out ca.pem`):
//
//   MOCK_S3_ENDPOINT=https://127.0.0.1:9443 NODE_EXTRA_CA_CERTS=ca.pem AWS_REGION=us-east-1 \
//   AWS_ACCESS_KEY_ID=poolsweep AWS_SECRET_ACCESS_KEY=poolsweep-secret node suite.mjs
//
// Each check prints `ok   NAME` or `FAIL NAME: why`; the last line is `N passed, N failed` and
// the exit status is 1 when a check failed.

import { createHash } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { crc32 as zlibCrc32 } from "node:zlib";

import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const ENDPOINT = process.env.MOCK_S3_ENDPOINT;
const BUCKET = "conformance-js";
const MIB = 1 << 20;

// Default client settings: only the endpoint is given (credentials and region come from the
// environment, the CA from NODE_EXTRA_CA_CERTS, as a user would set them).
const s3 = new S3Client({ endpoint: ENDPOINT });
const scratch = mkdtempSync(join(process.env.MOCK_S3_SCRATCH || tmpdir(), "mock-s3-js-"));

function data(n, seed = 0) {
  const out = Buffer.alloc(n);
  let block = createHash("sha256").update(String(seed)).digest();
  for (let off = 0; off < n; off += 32 * 64) {
    block = createHash("sha256").update(block).digest();
    for (let i = 0; i < 64 && off + i * 32 < n; i++) block.copy(out, off + i * 32);
  }
  return out;
}

const md5Etag = (b) => `"${createHash("md5").update(b).digest("hex")}"`;
const b64 = (b) => Buffer.from(b).toString("base64");
const crc32 = (b) => {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(zlibCrc32(b) >>> 0);
  return b64(v);
};

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed${msg === undefined ? "" : `: ${typeof msg === "string" ? msg : JSON.stringify(msg)}`}`);
}

function eq(got, want, what = "value") {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

async function errorOf(promise) {
  try {
    await promise;
  } catch (e) {
    return [e.$metadata?.httpStatusCode, e.name];
  }
  throw new Error("the call succeeded; an error was expected");
}

async function expectError(promise, status, code) {
  const got = await errorOf(promise);
  // A 304 has no body, so the SDK cannot name it: only its status is compared.
  eq(status === 304 ? got[0] : got, status === 304 ? 304 : [status, code], "error");
}

const send = (cmd) => s3.send(cmd);
const bodyOf = async (Key, extra = {}) => {
  const r = await send(new GetObjectCommand({ Bucket: BUCKET, Key, ...extra }));
  return Buffer.from(await r.Body.transformToByteArray());
};
const head = (Key, extra = {}) => send(new HeadObjectCommand({ Bucket: BUCKET, Key, ...extra }));
const put = (Key, Body, extra = {}) => send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ...extra }));
const absent = async (Key) => expectError(head(Key), 404, "NotFound");

/** `https` request with the body, returning [status, body]. */
function request(url, method, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve([res.statusCode, Buffer.concat(chunks)]));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const checks = [];
const check = (name, fn) => checks.push([name, fn]);

// ---- the session ------------------------------------------------------------------------------

check("create_bucket", async () => {
  await send(new CreateBucketCommand({ Bucket: BUCKET }));
  await send(new HeadBucketCommand({ Bucket: BUCKET }));
});

check("put_small", async () => {
  const body = Buffer.from("hello, parallel world");
  const r = await put("small.txt", body, { ContentType: "text/plain", Metadata: { owner: "poolsweep" } });
  eq(r.ETag, md5Etag(body), "ETag");
  const g = await send(new GetObjectCommand({ Bucket: BUCKET, Key: "small.txt" }));
  eq(Buffer.from(await g.Body.transformToByteArray()).toString(), body.toString());
  eq(g.ContentType, "text/plain");
  eq(g.Metadata, { owner: "poolsweep" });
});

check("put_string_and_empty", async () => {
  await put("string.txt", "a string body");
  eq((await bodyOf("string.txt")).toString(), "a string body");
  const r = await put("empty", "");
  eq(r.ETag, md5Etag(Buffer.alloc(0)));
  eq((await head("empty")).ContentLength, 0);
  eq((await bodyOf("empty")).length, 0);
});

check("put_5mib", async () => {
  const body = data(5 * MIB, 1);
  eq((await put("five-mib", body)).ETag, md5Etag(body));
  assert((await bodyOf("five-mib")).equals(body));
});

check("put_readable_stream", async () => {
  // The common way to upload a file in Node: a Readable with ContentLength, and one without.
  const body = data(700_000, 2);
  await put("stream", Readable.from([body.subarray(0, 300_000), body.subarray(300_000)]), {
    ContentLength: body.length,
  });
  assert((await bodyOf("stream")).equals(body), "stream with ContentLength");
  const path = join(scratch, "stream.bin");
  writeFileSync(path, body);
  await put("stream-file", createReadStream(path));
  assert((await bodyOf("stream-file")).equals(body), "fs.ReadStream");
});

check("put_file_buffer", async () => {
  const path = join(scratch, "file.bin");
  writeFileSync(path, data(1_000_003, 3));
  const body = readFileSync(path);
  eq((await put("file", body)).ETag, md5Etag(body));
  assert((await bodyOf("file")).equals(body));
});

check("multipart_lib_storage", async () => {
  // 12 MiB in lib-storage's default 5 MiB parts: 3 parts, from a stream of unknown length.
  const body = data(12 * MIB, 4);
  const path = join(scratch, "big.bin");
  writeFileSync(path, body);
  const upload = new Upload({ client: s3, params: { Bucket: BUCKET, Key: "big.bin", Body: createReadStream(path) } });
  const r = await upload.done();
  const parts = [body.subarray(0, 5 * MIB), body.subarray(5 * MIB, 10 * MIB), body.subarray(10 * MIB)];
  const expected = createHash("md5")
    .update(Buffer.concat(parts.map((p) => createHash("md5").update(p).digest())))
    .digest("hex");
  eq(r.ETag, `"${expected}-3"`, "ETag");
  eq((await head("big.bin")).ContentLength, body.length);
  assert((await bodyOf("big.bin")).equals(body));
  // A Buffer below the part size: one PutObject.
  const small = await new Upload({ client: s3, params: { Bucket: BUCKET, Key: "small-upload", Body: data(1000, 5) } }).done();
  eq(small.ETag, md5Etag(data(1000, 5)));
});

check("get_whole_and_ranged", async () => {
  const body = data(5 * MIB, 1);
  const r = await send(new GetObjectCommand({ Bucket: BUCKET, Key: "five-mib", Range: "bytes=100-199" }));
  eq(r.$metadata.httpStatusCode, 206);
  eq(r.ContentRange, `bytes 100-199/${body.length}`);
  assert(Buffer.from(await r.Body.transformToByteArray()).equals(body.subarray(100, 200)));
  assert((await bodyOf("five-mib", { Range: "bytes=-10" })).equals(body.subarray(-10)));
  await expectError(bodyOf("five-mib", { Range: `bytes=${body.length}-` }), 416, "InvalidRange");
});

check("head_object", async () => {
  const h = await head("small.txt");
  eq(h.ContentLength, 21);
  eq(h.ETag, md5Etag(Buffer.from("hello, parallel world")));
  assert(h.LastModified instanceof Date);
  await absent("no-such-key");
});

check("conditional_gets", async () => {
  const etag = (await head("small.txt")).ETag;
  eq((await bodyOf("small.txt", { IfMatch: etag })).toString(), "hello, parallel world");
  await expectError(bodyOf("small.txt", { IfNoneMatch: etag }), 304, "304");
  await expectError(bodyOf("small.txt", { IfMatch: '"0000"' }), 412, "PreconditionFailed");
  await expectError(bodyOf("small.txt", { IfModifiedSince: new Date(Date.now() + 86400e3) }), 304, "304");
  await expectError(bodyOf("small.txt", { IfUnmodifiedSince: new Date("2001-01-01") }), 412, "PreconditionFailed");
});

const KEYS = ["keys/with space.txt", "keys/plus+sign.txt", "keys/percent%20literal%.txt", "keys/ünïcødé/日本語 ☃.txt", "keys/a+b c%2Fd=e&f?g"];

check("awkward_keys", async () => {
  for (const k of KEYS) await put(k, k);
  for (const k of KEYS) eq((await bodyOf(k)).toString(), k, k);
  const r = await send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "keys/" }));
  const sorted = [...KEYS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  eq(r.Contents.map((o) => o.Key), sorted, "listed keys");
});

check("list_v2_pagination", async () => {
  const keys = ["list/a/1", "list/a/2", "list/b/1", "list/c", "list/d", "list/e/x/y", "list/f", "other"];
  for (const k of keys) await put(k, "x");
  const contents = [];
  const prefixes = [];
  let pages = 0;
  for await (const p of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: BUCKET, Prefix: "list/", Delimiter: "/" })) {
    pages++;
    assert(p.KeyCount <= 2);
    for (const o of p.Contents ?? []) contents.push(o.Key);
    for (const c of p.CommonPrefixes ?? []) prefixes.push(c.Prefix);
  }
  eq(contents, ["list/c", "list/d", "list/f"], "contents");
  eq(prefixes, ["list/a/", "list/b/", "list/e/"], "common prefixes");
  eq(pages, 3, "pages");
});

check("copy_object", async () => {
  const r = await send(new CopyObjectCommand({ Bucket: BUCKET, Key: "copy.txt", CopySource: `${BUCKET}/small.txt` }));
  eq(r.CopyObjectResult.ETag, md5Etag(Buffer.from("hello, parallel world")));
  const g = await head("copy.txt");
  eq(g.Metadata, { owner: "poolsweep" });
  // CopySource is URL-encoded by the caller, as the SDK documents.
  await send(new CopyObjectCommand({ Bucket: BUCKET, Key: "copy2.txt", CopySource: encodeURIComponent(`${BUCKET}/${KEYS[3]}`) }));
  eq((await bodyOf("copy2.txt")).toString(), KEYS[3]);
});

check("batch_delete", async () => {
  const keys = [0, 1, 2, 3, 4].map((i) => `del/${i}`);
  for (const k of keys) await put(k, "d");
  const r = await send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
  eq(r.Deleted.map((d) => d.Key).sort(), keys);
  eq((await send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "del/" }))).KeyCount, 0);
});

check("presigned_get", async () => {
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: KEYS[3] }), { expiresIn: 300 });
  const [status, body] = await request(url, "GET");
  eq(status, 200);
  eq(body.toString(), KEYS[3]);
  const [bad] = await request(url.replace("X-Amz-Expires=300", "X-Amz-Expires=301"), "GET");
  eq(bad, 403, "tampered URL");
});

check("presigned_put", async () => {
  const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: "presigned put" }), { expiresIn: 300 });
  const [status] = await request(url, "PUT", Buffer.from("via a presigned URL"));
  eq(status, 200);
  eq((await bodyOf("presigned put")).toString(), "via a presigned URL");
});

check("wrong_secret", async () => {
  const bad = new S3Client({
    endpoint: ENDPOINT,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: "not-the-secret" },
  });
  eq(await errorOf(bad.send(new PutObjectCommand({ Bucket: BUCKET, Key: "forged", Body: "x" }))), [403, "SignatureDoesNotMatch"]);
  eq(
    await errorOf(bad.send(new PutObjectCommand({ Bucket: BUCKET, Key: "forged", Body: Readable.from([Buffer.from("x")]), ContentLength: 1 }))),
    [403, "SignatureDoesNotMatch"],
  );
  await absent("forged");
});

check("bucket_not_empty", async () => {
  await expectError(send(new DeleteBucketCommand({ Bucket: BUCKET })), 409, "BucketNotEmpty");
  await send(new HeadBucketCommand({ Bucket: BUCKET }));
});

// ---- S3 behaviours the mock implements (issue 12, item 3) --------------------------------------

check("list_objects_v1", async () => {
  for (const k of ["v1/a/1", "v1/a/2", "v1/b", "v1/c/1", "v1/d"]) await put(k, "1");
  const r = await send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: "v1/", Delimiter: "/", MaxKeys: 2 }));
  eq(r.IsTruncated, true);
  eq(r.NextMarker, "v1/b");
  const r2 = await send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: "v1/", Delimiter: "/", Marker: r.NextMarker }));
  eq(r2.CommonPrefixes.map((c) => c.Prefix), ["v1/c/"]);
  eq(r2.Contents.map((o) => o.Key), ["v1/d"]);
  eq(r2.IsTruncated, false);
});

check("conditional_put", async () => {
  await put("cond", "one", { IfNoneMatch: "*" });
  await expectError(put("cond", "two", { IfNoneMatch: "*" }), 412, "PreconditionFailed");
  const etag = (await head("cond")).ETag;
  await expectError(put("cond", "two", { IfMatch: '"00"' }), 412, "PreconditionFailed");
  await put("cond", Readable.from([Buffer.from("two")]), { IfMatch: etag, ContentLength: 3 });
  eq((await bodyOf("cond")).toString(), "two");
  await expectError(put("cond-missing", "x", { IfMatch: etag }), 404, "NoSuchKey");
});

const PARTS = [data(5 * MIB, 20), data(5 * MIB, 21), data(123, 22)];

async function multipart(Key, parts, create = {}, partArgs = {}) {
  const up = await send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ...create }));
  const done = [];
  for (const [i, Body] of parts.entries()) {
    const r = await send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId: up.UploadId, PartNumber: i + 1, Body, ...partArgs }));
    const entry = { ETag: r.ETag, PartNumber: i + 1 };
    for (const n of ["ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256", "ChecksumCRC64NVME"]) if (r[n]) entry[n] = r[n];
    done.push(entry);
  }
  const complete = (extra = {}) =>
    send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId: up.UploadId, MultipartUpload: { Parts: done }, ...extra }));
  return { uploadId: up.UploadId, done, complete };
}

check("conditional_complete", async () => {
  const first = await (await multipart("mpu-cond", PARTS)).complete({ IfNoneMatch: "*" });
  const second = await multipart("mpu-cond", PARTS.slice(0, 1));
  await expectError(second.complete({ IfNoneMatch: "*" }), 412, "PreconditionFailed");
  await expectError(second.complete({ IfMatch: '"0123"' }), 412, "PreconditionFailed");
  const r = await second.complete({ IfMatch: first.ETag });
  assert(r.ETag.endsWith('-1"'), r.ETag);
});

check("copy_source_conditions", async () => {
  const etag = (await head("small.txt")).ETag;
  const copy = (extra) => send(new CopyObjectCommand({ Bucket: BUCKET, Key: "copy-cond", CopySource: `${BUCKET}/small.txt`, ...extra }));
  await expectError(copy({ CopySourceIfMatch: '"00"' }), 412, "PreconditionFailed");
  await expectError(copy({ CopySourceIfNoneMatch: etag }), 412, "PreconditionFailed");
  await expectError(copy({ CopySourceIfModifiedSince: new Date(Date.now() + 86400e3) }), 412, "PreconditionFailed");
  await expectError(copy({ CopySourceIfUnmodifiedSince: new Date("2001-01-01") }), 412, "PreconditionFailed");
  await absent("copy-cond");
  await copy({ CopySourceIfMatch: etag });
});

check("get_part_number", async () => {
  await (await multipart("mpu-parts", PARTS)).complete();
  const g = await send(new GetObjectCommand({ Bucket: BUCKET, Key: "mpu-parts", PartNumber: 2 }));
  eq(g.$metadata.httpStatusCode, 206);
  eq(g.PartsCount, 3);
  eq(g.ContentRange, `bytes ${5 * MIB}-${10 * MIB - 1}/${10 * MIB + 123}`);
  assert(Buffer.from(await g.Body.transformToByteArray()).equals(PARTS[1]));
  eq((await head("mpu-parts", { PartNumber: 3 })).ContentLength, 123);
  await expectError(bodyOf("mpu-parts", { PartNumber: 4 }), 416, "InvalidPartNumber");
});

check("multipart_checksum_composite", async () => {
  // lib-storage's default: CRC32 on every part, a composite CRC32 for the object.
  const r = await new Upload({ client: s3, params: { Bucket: BUCKET, Key: "mpu-crc32", Body: Buffer.concat(PARTS) } }).done();
  const want = `${crc32(Buffer.concat(PARTS.map((p) => Buffer.from(crc32(p), "base64"))))}-3`;
  eq([r.ChecksumCRC32, r.ChecksumType], [want, "COMPOSITE"], "Complete");
  const h = await head("mpu-crc32", { ChecksumMode: "ENABLED" });
  eq([h.ChecksumCRC32, h.ChecksumType], [want, "COMPOSITE"], "HEAD");
  eq((await head("mpu-crc32")).ChecksumCRC32, undefined, "HEAD without checksum mode");
  // SHA-256 parts, listed in Complete by lib-storage.
  const s = await new Upload({
    client: s3,
    params: { Bucket: BUCKET, Key: "mpu-sha256", Body: Buffer.concat(PARTS), ChecksumAlgorithm: "SHA256" },
  }).done();
  const sha = (b) => createHash("sha256").update(b).digest();
  eq(s.ChecksumSHA256, `${b64(sha(Buffer.concat(PARTS.map(sha))))}-3`, "composite SHA-256");
});

check("multipart_checksum_full_object", async () => {
  const whole = Buffer.concat(PARTS);
  const c = await multipart("mpu-crc32-full", PARTS, { ChecksumAlgorithm: "CRC32", ChecksumType: "FULL_OBJECT" }, { ChecksumAlgorithm: "CRC32" });
  await expectError(c.complete({ ChecksumCRC32: crc32(Buffer.from("not it")), ChecksumType: "FULL_OBJECT" }), 400, "BadDigest");
  const ok = await c.complete({ ChecksumCRC32: crc32(whole), ChecksumType: "FULL_OBJECT" });
  eq([ok.ChecksumCRC32, ok.ChecksumType], [crc32(whole), "FULL_OBJECT"]);
  const g = await send(new GetObjectCommand({ Bucket: BUCKET, Key: "mpu-crc32-full", ChecksumMode: "ENABLED" }));
  eq(g.ChecksumType, "FULL_OBJECT");
  assert(Buffer.from(await g.Body.transformToByteArray()).equals(whole)); // the SDK validates the CRC32 as it reads
});

check("complete_twice", async () => {
  const m = await multipart("mpu-twice", PARTS);
  const first = await m.complete();
  const again = await m.complete();
  eq([again.$metadata.httpStatusCode, again.ETag], [200, first.ETag]);
});

check("list_buckets_paging", async () => {
  const names = [0, 1, 2].map((i) => `js-page-${i}`);
  for (const n of names) await send(new CreateBucketCommand({ Bucket: n }));
  const r = await send(new ListBucketsCommand({ MaxBuckets: 2, Prefix: "js-page-" }));
  eq(r.Buckets.map((b) => b.Name), names.slice(0, 2));
  const r2 = await send(new ListBucketsCommand({ MaxBuckets: 2, Prefix: "js-page-", ContinuationToken: r.ContinuationToken }));
  eq(r2.Buckets.map((b) => b.Name), names.slice(2));
  eq(r2.ContinuationToken, undefined);
  for (const n of names) await send(new DeleteBucketCommand({ Bucket: n }));
});

check("list_v2_fetch_owner", async () => {
  const r = await send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "small", FetchOwner: true }));
  assert(r.Contents[0].Owner?.ID, r.Contents[0]);
});

check("non_ascii_metadata", async () => {
  // The SDK sends "Müller" as its UTF-8 bytes. S3 reads header bytes as ISO-8859-1 and returns
  // non-ASCII metadata RFC 2047 encoded, so the UTF-8 comes back encoded twice (recorded S3
  // answer for "ö": =?UTF-8?B?w4PCtg==?=, minio/minio pull request 21282).
  await put("meta", "m", { Metadata: { name: "Müller", plain: "ascii only" } });
  const meta = (await head("meta")).Metadata;
  eq(meta, { name: "=?UTF-8?B?TcODwrxsbGVy?=", plain: "ascii only" }, "metadata");
  eq(Buffer.from("TcODwrxsbGVy", "base64").toString("utf8"), "MÃ¼ller");
});

check("content_encoding", async () => {
  await put("gz", Buffer.from("not really gzip"), { ContentEncoding: "gzip" });
  eq((await head("gz")).ContentEncoding, "gzip");
});

check("unsupported_features_refused", async () => {
  await expectError(put("acl", "f", { ACL: "public-read" }), 400, "AccessControlListNotSupported");
  await expectError(put("kms", "f", { ServerSideEncryption: "aws:kms" }), 501, "NotImplemented");
  await expectError(put("tags", "f", { Tagging: "a=b" }), 501, "NotImplemented");
  await expectError(put("lock", "f", { ObjectLockLegalHoldStatus: "ON" }), 400, "InvalidRequest");
  for (const k of ["acl", "kms", "tags", "lock"]) await absent(k);
  eq((await put("sse-s3", "f", { ServerSideEncryption: "AES256" })).ServerSideEncryption, "AES256");
});

async function main() {
  const version = (name) => JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url))).version;
  console.log(
    `@aws-sdk/client-s3 ${version("@aws-sdk/client-s3")} (lib-storage ${version("@aws-sdk/lib-storage")}, ` +
      `s3-request-presigner ${version("@aws-sdk/s3-request-presigner")}, Node.js ${process.versions.node}) against ${ENDPOINT}`,
  );
  let passed = 0;
  let failed = 0;
  for (const [name, fn] of checks) {
    const start = performance.now();
    try {
      await fn();
      passed++;
      console.log(`ok   ${name} (${((performance.now() - start) / 1000).toFixed(2)} s)`);
    } catch (e) {
      failed++;
      const where = (e.stack ?? "").split("\n").find((l) => l.includes("suite.mjs"));
      const line = where?.match(/suite\.mjs:(\d+)/)?.[1];
      console.log(`FAIL ${name}: ${e.name}: ${e.message}${line ? ` (suite.mjs line ${line})` : ""}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

await main();
