"""boto3 against mock-s3: a full S3 session with default client settings, one check per line.

Run by `cargo test -p mock-s3 --test conformance`, which starts the mock over TLS with SigV4 on,
installs the pinned boto3 into python/.venv and sets the environment below. By hand, against a
standalone mock (`cargo run -p mock-s3 -- --ca-out ca.pem`):

    MOCK_S3_ENDPOINT=https://127.0.0.1:9443 AWS_CA_BUNDLE=ca.pem AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=poolsweep AWS_SECRET_ACCESS_KEY=poolsweep-secret \
    python/.venv/bin/python python/suite.py

Each check prints `ok   NAME` or `FAIL NAME: why`; the last line is `N passed, N failed` and the
exit status is 1 when a check failed. A check named on the command line runs alone (with the
checks it builds on, which are the ones before it).
"""

import base64
import concurrent.futures
import datetime
import hashlib
import io
import os
import platform
import ssl
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import zlib

import boto3
import botocore
import s3transfer
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["MOCK_S3_ENDPOINT"]
CA = os.environ["AWS_CA_BUNDLE"]
BUCKET = "conformance-py"
MIB = 1 << 20

# Default client settings: only the endpoint is given (credentials, region and the CA bundle
# come from the environment, as a user would set them).
s3 = boto3.client("s3", endpoint_url=ENDPOINT)
SCRATCH = tempfile.mkdtemp(prefix="mock-s3-boto3-", dir=os.environ.get("MOCK_S3_SCRATCH"))


def data(n, seed=0):
    """`n` deterministic pseudo-random bytes."""
    out = bytearray()
    block = hashlib.sha256(f"{seed}".encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:n])


def md5_etag(body):
    return '"' + hashlib.md5(body).hexdigest() + '"'


def b64(raw):
    return base64.b64encode(raw).decode()


def crc32(body):
    return b64(zlib.crc32(body).to_bytes(4, "big"))


def error_of(call):
    """(HTTP status, S3 error code) of a call that must fail."""
    try:
        call()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    raise AssertionError("the call succeeded; an error was expected")


def expect_error(call, status, code):
    got = error_of(call)
    assert got == (status, code), f"expected {status} {code}, got {got[0]} {got[1]}"


def absent(key, bucket=BUCKET):
    expect_error(lambda: s3.head_object(Bucket=bucket, Key=key), 404, "404")


def body_of(key, **kw):
    return s3.get_object(Bucket=BUCKET, Key=key, **kw)["Body"].read()


def path(name, content):
    p = os.path.join(SCRATCH, name)
    with open(p, "wb") as f:
        f.write(content)
    return p


def ssl_context():
    return ssl.create_default_context(cafile=CA)


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


# ---- the session --------------------------------------------------------------------------


@check
def create_bucket():
    s3.create_bucket(Bucket=BUCKET)
    s3.head_bucket(Bucket=BUCKET)


@check
def put_small():
    body = b"hello, parallel world"
    r = s3.put_object(Bucket=BUCKET, Key="small.txt", Body=body, ContentType="text/plain",
                      Metadata={"owner": "poolsweep"})
    assert r["ETag"] == md5_etag(body), r["ETag"]
    got = s3.get_object(Bucket=BUCKET, Key="small.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "poolsweep"}, got["Metadata"]


@check
def put_empty():
    r = s3.put_object(Bucket=BUCKET, Key="empty", Body=b"")
    assert r["ETag"] == md5_etag(b""), r["ETag"]
    head = s3.head_object(Bucket=BUCKET, Key="empty")
    assert head["ContentLength"] == 0
    assert body_of("empty") == b""


@check
def put_5mib():
    body = data(5 * MIB, 1)
    r = s3.put_object(Bucket=BUCKET, Key="five-mib", Body=body)
    assert r["ETag"] == md5_etag(body), r["ETag"]
    assert body_of("five-mib") == body


class Unseekable(io.RawIOBase):
    """A stream of unknown length: boto3 cannot seek it to learn its size."""

    def __init__(self, body):
        self._body = io.BytesIO(body)

    def readable(self):
        return True

    def readinto(self, b):
        return self._body.readinto(b)


class Gated(io.BytesIO):
    """A stream whose reads after the first wait for `gate`: an upload still under way.
    `waiting` is set when a read starts waiting, that is once the request's head and first
    chunk have gone out (botocore sends PutObject's file-like bodies with Expect:
    100-continue, so the server had taken the head before the first read)."""

    def __init__(self, body, gate):
        super().__init__(body)
        self._gate = gate
        self.waiting = threading.Event()

    def read(self, n=-1):
        if self.tell() > 0:
            self.waiting.set()
            self._gate.wait(30)
        return super().read(64 * 1024 if n is None or n < 0 else min(n, 64 * 1024))


@check
def put_stream():
    body = data(300_000, 2)
    s3.put_object(Bucket=BUCKET, Key="stream", Body=io.BytesIO(body))
    assert body_of("stream") == body
    # A stream boto3 cannot size goes as aws-chunked without x-amz-decoded-content-length,
    # which S3 refuses with 411 MissingContentLength (and the mock with it).
    expect_error(lambda: s3.put_object(Bucket=BUCKET, Key="unsized", Body=Unseekable(body)),
                 411, "MissingContentLength")
    absent("unsized")


@check
def put_file():
    body = data(1_000_003, 3)
    with open(path("file.bin", body), "rb") as f:
        r = s3.put_object(Bucket=BUCKET, Key="file", Body=f)
    assert r["ETag"] == md5_etag(body)
    assert body_of("file") == body
    # upload_file below the multipart threshold: one PutObject through s3transfer.
    s3.upload_file(path("file.bin", body), BUCKET, "file-transfer")
    assert body_of("file-transfer") == body


@check
def multipart_s3transfer():
    body = data(17 * MIB, 4)  # 8 + 8 + 1 MiB with s3transfer's defaults
    src = path("big.bin", body)
    s3.upload_file(src, BUCKET, "big.bin")
    head = s3.head_object(Bucket=BUCKET, Key="big.bin")
    assert head["ContentLength"] == len(body)
    assert head["ETag"].endswith('-3"'), head["ETag"]
    parts = [body[i : i + 8 * MIB] for i in range(0, len(body), 8 * MIB)]
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert head["ETag"] == f'"{expected}-3"', head["ETag"]
    # Downloads above the threshold are ranged GETs in parallel.
    dst = os.path.join(SCRATCH, "big.out")
    s3.download_file(BUCKET, "big.bin", dst)
    with open(dst, "rb") as f:
        assert f.read() == body
    # upload_fileobj with a file object, 5 MiB parts.
    with open(src, "rb") as f:
        s3.upload_fileobj(f, BUCKET, "big-fileobj",
                          Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB))
    assert s3.head_object(Bucket=BUCKET, Key="big-fileobj")["ETag"].endswith('-4"')


@check
def get_whole_and_ranged():
    body = data(5 * MIB, 1)
    got = s3.get_object(Bucket=BUCKET, Key="five-mib")
    assert got["ContentLength"] == len(body) and got["Body"].read() == body
    r = s3.get_object(Bucket=BUCKET, Key="five-mib", Range="bytes=100-199")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentRange"] == f"bytes 100-199/{len(body)}", r["ContentRange"]
    assert r["Body"].read() == body[100:200]
    r = s3.get_object(Bucket=BUCKET, Key="five-mib", Range="bytes=-10")
    assert r["Body"].read() == body[-10:]
    expect_error(lambda: s3.get_object(Bucket=BUCKET, Key="five-mib", Range=f"bytes={len(body)}-"),
                 416, "InvalidRange")


@check
def head_object():
    head = s3.head_object(Bucket=BUCKET, Key="small.txt")
    assert head["ContentLength"] == len(b"hello, parallel world")
    assert head["ETag"] == md5_etag(b"hello, parallel world")
    assert isinstance(head["LastModified"], datetime.datetime)
    absent("no-such-key")


@check
def conditional_gets():
    etag = s3.head_object(Bucket=BUCKET, Key="small.txt")["ETag"]
    assert body_of("small.txt", IfMatch=etag) == b"hello, parallel world"
    expect_error(lambda: s3.get_object(Bucket=BUCKET, Key="small.txt", IfNoneMatch=etag), 304, "304")
    expect_error(lambda: s3.get_object(Bucket=BUCKET, Key="small.txt", IfMatch='"0000"'),
                 412, "PreconditionFailed")
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    past = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
    expect_error(lambda: s3.get_object(Bucket=BUCKET, Key="small.txt", IfModifiedSince=future), 304, "304")
    expect_error(lambda: s3.get_object(Bucket=BUCKET, Key="small.txt", IfUnmodifiedSince=past),
                 412, "PreconditionFailed")
    assert body_of("small.txt", IfModifiedSince=past) == b"hello, parallel world"


KEYS = ["keys/with space.txt", "keys/plus+sign.txt", "keys/percent%20literal%.txt",
        "keys/ünïcødé/日本語 ☃.txt", "keys/a+b c%2Fd=e&f?g"]


@check
def awkward_keys():
    for key in KEYS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    for key in KEYS:
        assert body_of(key) == key.encode(), key
        s3.head_object(Bucket=BUCKET, Key=key)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="keys/")["Contents"]]
    assert listed == sorted(KEYS, key=lambda k: k.encode()), listed


@check
def list_v2_pagination():
    keys = ["list/a/1", "list/a/2", "list/b/1", "list/c", "list/d", "list/e/x/y", "list/f", "other"]
    for k in keys:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"x")
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix="list/", Delimiter="/", PaginationConfig={"PageSize": 2}))
    contents = [o["Key"] for p in pages for o in p.get("Contents", [])]
    prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
    assert contents == ["list/c", "list/d", "list/f"], contents
    assert prefixes == ["list/a/", "list/b/", "list/e/"], prefixes
    assert len(pages) == 3, len(pages)
    assert all(p["KeyCount"] <= 2 for p in pages)
    flat = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix="list/", PaginationConfig={"PageSize": 3}) for o in p["Contents"]]
    assert flat == sorted(k for k in keys if k.startswith("list/")), flat
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix="list/", StartAfter="list/c")
    assert [o["Key"] for o in r["Contents"]][0] == "list/d"


@check
def copy_object():
    r = s3.copy_object(Bucket=BUCKET, Key="copy.txt", CopySource={"Bucket": BUCKET, "Key": "small.txt"})
    assert r["CopyObjectResult"]["ETag"] == md5_etag(b"hello, parallel world")
    got = s3.get_object(Bucket=BUCKET, Key="copy.txt")
    assert got["Body"].read() == b"hello, parallel world"
    assert got["Metadata"] == {"owner": "poolsweep"} and got["ContentType"] == "text/plain"
    s3.copy_object(Bucket=BUCKET, Key="copy2.txt", CopySource={"Bucket": BUCKET, "Key": KEYS[3]},
                   MetadataDirective="REPLACE", Metadata={"k": "v"}, ContentType="text/x")
    got = s3.get_object(Bucket=BUCKET, Key="copy2.txt")
    assert got["Metadata"] == {"k": "v"} and got["ContentType"] == "text/x"
    assert got["Body"].read() == KEYS[3].encode()
    # s3transfer's managed copy of a multipart object (UploadPartCopy is not implemented by the
    # mock, so it stays below the multipart threshold here).
    s3.copy({"Bucket": BUCKET, "Key": "five-mib"}, BUCKET, "five-mib-copy")
    assert body_of("five-mib-copy") == data(5 * MIB, 1)


@check
def batch_delete():
    keys = [f"del/{i}" for i in range(5)]
    for k in keys:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"d")
    r = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys + ["del/missing"]]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys + ["del/missing"]), r
    assert not r.get("Errors")
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="del/")
    r = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "del/x"}], "Quiet": True})
    assert not r.get("Deleted")


# boto3's presigner signs with SigV2 unless told otherwise, which S3 refuses for every bucket
# created since June 2020 (and so does the mock): presigned URLs are made with SigV4, as the
# boto3 documentation's presigned-URL examples configure it.
presigner = boto3.client("s3", endpoint_url=ENDPOINT, config=Config(signature_version="s3v4"))


@check
def presigned_sigv2_refused():
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "small.txt"})
    assert "AWSAccessKeyId=" in url, url
    try:
        urllib.request.urlopen(url, context=ssl_context())
        raise AssertionError("a SigV2 presigned URL was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 400 and b"Please use AWS4-HMAC-SHA256" in e.read()


@check
def presigned_get():
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEYS[3]}, ExpiresIn=300)
    with urllib.request.urlopen(url, context=ssl_context()) as r:
        assert r.status == 200 and r.read() == KEYS[3].encode()
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "small.txt"}, ExpiresIn=300)
    tampered = url.replace("small.txt", "copy.txt")
    try:
        urllib.request.urlopen(tampered, context=ssl_context())
        raise AssertionError("a tampered presigned URL was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 403 and b"SignatureDoesNotMatch" in e.read()


@check
def presigned_put():
    url = presigner.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "presigned put"}, ExpiresIn=300)
    req = urllib.request.Request(url, data=b"via a presigned URL", method="PUT")
    with urllib.request.urlopen(req, context=ssl_context()) as r:
        assert r.status == 200
    assert body_of("presigned put") == b"via a presigned URL"


@check
def wrong_secret():
    bad = boto3.client("s3", endpoint_url=ENDPOINT, aws_secret_access_key="not-the-secret",
                       aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"])
    expect_error(lambda: bad.put_object(Bucket=BUCKET, Key="forged", Body=b"x"), 403, "SignatureDoesNotMatch")
    absent("forged")
    expect_error(lambda: bad.list_objects_v2(Bucket=BUCKET), 403, "SignatureDoesNotMatch")


@check
def bucket_not_empty():
    expect_error(lambda: s3.delete_bucket(Bucket=BUCKET), 409, "BucketNotEmpty")
    s3.head_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket="conformance-py-empty")
    s3.delete_bucket(Bucket="conformance-py-empty")
    expect_error(lambda: s3.head_bucket(Bucket="conformance-py-empty"), 404, "404")


# ---- S3 behaviours the mock implements (issue 12, item 3) --------------------------------------


@check
def list_objects_v1():
    keys = ["v1/a/1", "v1/a/2", "v1/b", "v1/c/1", "v1/d", "v1/e f"]
    for k in keys:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"1")
    r = s3.list_objects(Bucket=BUCKET, Prefix="v1/", Delimiter="/", MaxKeys=2)
    assert r["IsTruncated"] and r["NextMarker"] == "v1/b", r.get("NextMarker")
    assert [c["Prefix"] for c in r["CommonPrefixes"]] == ["v1/a/"]
    assert [o["Key"] for o in r["Contents"]] == ["v1/b"]
    assert "Owner" in r["Contents"][0], "ListObjects (v1) returns Owner"
    pages = list(s3.get_paginator("list_objects").paginate(
        Bucket=BUCKET, Prefix="v1/", Delimiter="/", PaginationConfig={"PageSize": 2}))
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == ["v1/b", "v1/d", "v1/e f"]
    assert [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])] == ["v1/a/", "v1/c/"]
    # Without a delimiter there is no NextMarker: the client continues from the last key.
    r = s3.list_objects(Bucket=BUCKET, Prefix="v1/", MaxKeys=3)
    assert r["IsTruncated"] and "NextMarker" not in r
    r = s3.list_objects(Bucket=BUCKET, Prefix="v1/", Marker="v1/c/1")
    assert [o["Key"] for o in r["Contents"]] == ["v1/d", "v1/e f"] and not r["IsTruncated"]
    # boto3 asks for encoding-type=url and decodes the keys back.
    assert r["Contents"][1]["Key"] == "v1/e f"


@check
def conditional_put():
    s3.put_object(Bucket=BUCKET, Key="cond", Body=b"one", IfNoneMatch="*")
    expect_error(lambda: s3.put_object(Bucket=BUCKET, Key="cond", Body=b"two", IfNoneMatch="*"),
                 412, "PreconditionFailed")
    etag = s3.head_object(Bucket=BUCKET, Key="cond")["ETag"]
    expect_error(lambda: s3.put_object(Bucket=BUCKET, Key="cond", Body=b"two", IfMatch='"00"'),
                 412, "PreconditionFailed")
    assert body_of("cond") == b"one"
    s3.put_object(Bucket=BUCKET, Key="cond", Body=b"two", IfMatch=etag)
    assert body_of("cond") == b"two"
    expect_error(lambda: s3.put_object(Bucket=BUCKET, Key="cond-missing", Body=b"x", IfMatch=etag),
                 404, "NoSuchKey")
    absent("cond-missing")


@check
def conditional_put_conflict():
    # A write that lands while a conditional PUT's body is still arriving: S3 answers the
    # conditional request 409 ConditionalRequestConflict.
    gate = threading.Event()
    body = Gated(data(200_000, 9), gate)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(error_of, lambda: s3.put_object(
            Bucket=BUCKET, Key="race", Body=body, IfNoneMatch="*"))
        # The other write must land while the conditional one is under way, not before its
        # head (on a busy machine the pool's thread can start after this one's PUT is done,
        # and the conditional PUT then gets 412 for an object that was there first).
        assert body.waiting.wait(30), "the conditional PUT never started sending its body"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                s3.put_object(Bucket=BUCKET, Key="race", Body=b"winner")
                break
            except ClientError:
                time.sleep(0.05)
        gate.set()
        assert slow.result() == (409, "ConditionalRequestConflict"), slow.result()
    assert body_of("race") == b"winner"


def multipart(key, parts, create=None, part_args=None, complete=None):
    """Creates, uploads and completes an upload; returns (upload id, part list, Complete result)."""
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key, **(create or {}))
    done = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up["UploadId"], PartNumber=i, Body=p,
                           **(part_args or {}))
        entry = {"ETag": r["ETag"], "PartNumber": i}
        for name in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256", "ChecksumCRC64NVME"):
            if name in r:
                entry[name] = r[name]
        done.append(entry)
    if complete is None:
        return up["UploadId"], done, None
    r = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": done}, **complete)
    return up["UploadId"], done, r


PARTS = [data(5 * MIB, 20), data(5 * MIB, 21), data(123, 22)]


@check
def conditional_complete():
    _, _, r = multipart("mpu-cond", PARTS, complete={"IfNoneMatch": "*"})
    upload_id, done, _ = multipart("mpu-cond", PARTS[:1])
    complete = lambda **kw: s3.complete_multipart_upload(
        Bucket=BUCKET, Key="mpu-cond", UploadId=upload_id, MultipartUpload={"Parts": done}, **kw)
    expect_error(lambda: complete(IfNoneMatch="*"), 412, "PreconditionFailed")
    expect_error(lambda: complete(IfMatch='"0123"'), 412, "PreconditionFailed")
    assert s3.head_object(Bucket=BUCKET, Key="mpu-cond")["ETag"] == r["ETag"]
    r2 = complete(IfMatch=r["ETag"])
    assert r2["ETag"].endswith('-1"')
    upload_id, done, _ = multipart("mpu-cond-missing", PARTS[:1])
    expect_error(lambda: s3.complete_multipart_upload(
        Bucket=BUCKET, Key="mpu-cond-missing", UploadId=upload_id, MultipartUpload={"Parts": done},
        IfMatch=r["ETag"]), 404, "NoSuchKey")


@check
def copy_source_conditions():
    etag = s3.head_object(Bucket=BUCKET, Key="small.txt")["ETag"]
    src = {"Bucket": BUCKET, "Key": "small.txt"}
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    past = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
    copy = lambda **kw: s3.copy_object(Bucket=BUCKET, Key="copy-cond", CopySource=src, **kw)
    expect_error(lambda: copy(CopySourceIfMatch='"00"'), 412, "PreconditionFailed")
    expect_error(lambda: copy(CopySourceIfNoneMatch=etag), 412, "PreconditionFailed")
    expect_error(lambda: copy(CopySourceIfModifiedSince=future), 412, "PreconditionFailed")
    expect_error(lambda: copy(CopySourceIfUnmodifiedSince=past), 412, "PreconditionFailed")
    absent("copy-cond")
    copy(CopySourceIfMatch=etag, CopySourceIfUnmodifiedSince=past)  # if-match wins, as S3 documents
    copy(CopySourceIfNoneMatch='"00"', CopySourceIfModifiedSince=past)
    # The destination's own conditional write.
    expect_error(lambda: copy(IfNoneMatch="*"), 412, "PreconditionFailed")


@check
def get_part_number():
    _, _, r = multipart("mpu-parts", PARTS, complete={})
    whole = b"".join(PARTS)
    g = s3.get_object(Bucket=BUCKET, Key="mpu-parts", PartNumber=2)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["PartsCount"] == 3, g.get("PartsCount")
    assert g["ContentRange"] == f"bytes {5 * MIB}-{10 * MIB - 1}/{len(whole)}", g["ContentRange"]
    assert g["Body"].read() == PARTS[1]
    assert g["ETag"] == r["ETag"]
    h = s3.head_object(Bucket=BUCKET, Key="mpu-parts", PartNumber=3)
    assert h["ContentLength"] == 123 and h["PartsCount"] == 3
    expect_error(lambda: s3.get_object(Bucket=BUCKET, Key="mpu-parts", PartNumber=4), 416, "InvalidPartNumber")
    expect_error(lambda: s3.get_object(Bucket=BUCKET, Key="mpu-parts", PartNumber=1, Range="bytes=0-1"),
                 400, "InvalidRequest")
    # A single-part object is its own part 1.
    g = s3.get_object(Bucket=BUCKET, Key="small.txt", PartNumber=1)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206 and g["Body"].read() == b"hello, parallel world"
    expect_error(lambda: s3.head_object(Bucket=BUCKET, Key="small.txt", PartNumber=2), 416, "416")


@check
def multipart_checksum_composite():
    _, done, r = multipart("mpu-sha256", PARTS, create={"ChecksumAlgorithm": "SHA256"},
                           part_args={"ChecksumAlgorithm": "SHA256"}, complete={})
    composite = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in PARTS)).digest()
    want = f"{b64(composite)}-3"
    assert r["ChecksumSHA256"] == want, (r.get("ChecksumSHA256"), want)
    assert r["ChecksumType"] == "COMPOSITE"
    h = s3.head_object(Bucket=BUCKET, Key="mpu-sha256", ChecksumMode="ENABLED")
    assert h["ChecksumSHA256"] == want and h["ChecksumType"] == "COMPOSITE"
    assert "ChecksumSHA256" not in s3.head_object(Bucket=BUCKET, Key="mpu-sha256")
    # Part checksums are checked against the parts.
    upload_id, done, _ = multipart("mpu-sha256-bad", PARTS[:1], create={"ChecksumAlgorithm": "SHA256"},
                                   part_args={"ChecksumAlgorithm": "SHA256"})
    done[0]["ChecksumSHA256"] = b64(hashlib.sha256(b"other").digest())
    expect_error(lambda: s3.complete_multipart_upload(
        Bucket=BUCKET, Key="mpu-sha256-bad", UploadId=upload_id, MultipartUpload={"Parts": done}),
        400, "InvalidPart")
    # s3transfer's default (CRC32 on every part) gives a composite CRC32.
    big = data(17 * MIB, 4)
    parts = [big[i : i + 8 * MIB] for i in range(0, len(big), 8 * MIB)]
    want = crc32(b"".join(zlib.crc32(p).to_bytes(4, "big") for p in parts)) + "-3"
    h = s3.head_object(Bucket=BUCKET, Key="big.bin", ChecksumMode="ENABLED")
    assert (h.get("ChecksumCRC32"), h.get("ChecksumType")) == (want, "COMPOSITE"), (h.get("ChecksumCRC32"), want)


@check
def multipart_checksum_full_object():
    whole = b"".join(PARTS)
    _, _, r = multipart("mpu-crc32", PARTS,
                        create={"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"},
                        part_args={"ChecksumAlgorithm": "CRC32"},
                        complete={"ChecksumCRC32": crc32(whole), "ChecksumType": "FULL_OBJECT"})
    assert r["ChecksumCRC32"] == crc32(whole) and r["ChecksumType"] == "FULL_OBJECT", r
    g = s3.get_object(Bucket=BUCKET, Key="mpu-crc32", ChecksumMode="ENABLED")
    assert g["ChecksumCRC32"] == crc32(whole) and g["ChecksumType"] == "FULL_OBJECT"
    assert g["Body"].read() == whole  # botocore validates the full-object CRC32 as it reads
    upload_id, done, _ = multipart("mpu-crc32-bad", PARTS,
                                   create={"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"},
                                   part_args={"ChecksumAlgorithm": "CRC32"})
    expect_error(lambda: s3.complete_multipart_upload(
        Bucket=BUCKET, Key="mpu-crc32-bad", UploadId=upload_id, MultipartUpload={"Parts": done},
        ChecksumCRC32=crc32(b"not it"), ChecksumType="FULL_OBJECT"), 400, "BadDigest")
    absent("mpu-crc32-bad")
    # FULL_OBJECT exists for the CRCs only.
    expect_error(lambda: s3.create_multipart_upload(Bucket=BUCKET, Key="x", ChecksumAlgorithm="SHA256",
                                                    ChecksumType="FULL_OBJECT"), 400, "InvalidRequest")
    # Through s3transfer, with the full-object CRC32 given up front.
    src = path("full.bin", whole)
    s3.upload_file(src, BUCKET, "full-transfer", ExtraArgs={"ChecksumCRC32": crc32(whole)},
                   Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB))
    h = s3.head_object(Bucket=BUCKET, Key="full-transfer", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == crc32(whole) and h["ChecksumType"] == "FULL_OBJECT", h


@check
def complete_twice():
    upload_id, done, r = multipart("mpu-twice", PARTS, complete={})
    again = s3.complete_multipart_upload(Bucket=BUCKET, Key="mpu-twice", UploadId=upload_id,
                                         MultipartUpload={"Parts": done})
    assert again["ETag"] == r["ETag"] and again["ResponseMetadata"]["HTTPStatusCode"] == 200
    expect_error(lambda: s3.list_parts(Bucket=BUCKET, Key="mpu-twice", UploadId=upload_id), 404, "NoSuchUpload")


@check
def list_v2_fetch_owner():
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix="small", FetchOwner=True)
    assert r["Contents"][0]["Owner"]["ID"], r["Contents"][0]
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix="small")
    assert "Owner" not in r["Contents"][0]


@check
def list_buckets_paging():
    names = [f"page-{i}" for i in range(5)]
    for n in names:
        s3.create_bucket(Bucket=n)
    r = s3.list_buckets(MaxBuckets=2, Prefix="page-")
    assert [b["Name"] for b in r["Buckets"]] == names[:2] and r["ContinuationToken"], r
    assert r["Prefix"] == "page-"
    seen = [b["Name"] for p in s3.get_paginator("list_buckets").paginate(
        Prefix="page-", PaginationConfig={"PageSize": 2}) for b in p["Buckets"]]
    assert seen == names, seen
    everything = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert BUCKET in everything and set(names) <= set(everything)
    for n in names:
        s3.delete_bucket(Bucket=n)


@check
def encoding_type_url():
    # botocore sends encoding-type=url and decodes with unquote_plus: a space must come back
    # as '+', a literal '+' as %2B (what S3 sends).
    s3.put_object(Bucket=BUCKET, Key="enc/a b+c", Body=b"")
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix="enc/a b", Delimiter="+")
    assert r["Prefix"] == "enc/a b" and r["CommonPrefixes"][0]["Prefix"] == "enc/a b+", r
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix="enc/")
    assert [o["Key"] for o in r["Contents"]] == ["enc/a b+c"]


@check
def non_ascii_metadata():
    # boto3 sends only ASCII metadata; a non-ASCII value goes as an RFC 2047 encoded word, which
    # S3 decodes before storing and encodes (as UTF-8, B encoding) when returning it.
    s3.put_object(Bucket=BUCKET, Key="meta", Body=b"m",
                  Metadata={"name": "=?UTF-8?Q?M=C3=BCller?=", "plain": "ascii only"})
    meta = s3.head_object(Bucket=BUCKET, Key="meta")["Metadata"]
    assert meta["name"] == "=?UTF-8?B?TcO8bGxlcg==?=", meta
    assert meta["plain"] == "ascii only"


@check
def content_encoding():
    raw = b"compressed " * 100
    gz = zlib.compress(raw)
    s3.put_object(Bucket=BUCKET, Key="gz", Body=gz, ContentEncoding="deflate", ContentType="text/plain")
    h = s3.head_object(Bucket=BUCKET, Key="gz")
    assert h["ContentEncoding"] == "deflate", h.get("ContentEncoding")
    g = s3.get_object(Bucket=BUCKET, Key="gz")
    assert g["ContentEncoding"] == "deflate" and g["Body"].read() == gz


@check
def unsupported_features_refused():
    put = lambda key, **kw: s3.put_object(Bucket=BUCKET, Key=key, Body=b"f", **kw)
    expect_error(lambda: put("acl", ACL="public-read"), 400, "AccessControlListNotSupported")
    expect_error(lambda: put("grant", GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"'),
                 400, "AccessControlListNotSupported")
    put("acl-ok", ACL="bucket-owner-full-control")
    expect_error(lambda: put("kms", ServerSideEncryption="aws:kms"), 501, "NotImplemented")
    expect_error(lambda: put("ssec", SSECustomerAlgorithm="AES256", SSECustomerKey="k" * 32), 501, "NotImplemented")
    expect_error(lambda: put("lock", ObjectLockMode="GOVERNANCE",
                             ObjectLockRetainUntilDate=datetime.datetime(2100, 1, 1)), 400, "InvalidRequest")
    expect_error(lambda: put("hold", ObjectLockLegalHoldStatus="ON"), 400, "InvalidRequest")
    expect_error(lambda: put("tags", Tagging="a=b"), 501, "NotImplemented")
    expect_error(lambda: s3.create_multipart_upload(Bucket=BUCKET, Key="kms", ServerSideEncryption="aws:kms"),
                 501, "NotImplemented")
    expect_error(lambda: s3.copy_object(Bucket=BUCKET, Key="tags", CopySource={"Bucket": BUCKET, "Key": "small.txt"},
                                        TaggingDirective="REPLACE", Tagging="a=b"), 501, "NotImplemented")
    for key in ("acl", "grant", "kms", "ssec", "lock", "hold", "tags"):
        absent(key)
    expect_error(lambda: s3.put_object_tagging(Bucket=BUCKET, Key="small.txt",
                                               Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}),
                 501, "NotImplemented")
    # SSE-S3 is what S3 does to every object: accepted and echoed.
    r = put("sse-s3", ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=BUCKET, Key="sse-s3")["ServerSideEncryption"] == "AES256"


def main():
    only = set(sys.argv[1:])
    last = max((i for i, c in enumerate(CHECKS) if c.__name__ in only), default=len(CHECKS) - 1)
    passed = failed = 0
    print(f"boto3 {boto3.__version__} (botocore {botocore.__version__}, s3transfer {s3transfer.__version__}, "
          f"Python {platform.python_version()}) against {ENDPOINT}", flush=True)
    for fn in CHECKS[: last + 1]:
        start = time.monotonic()
        try:
            fn()
            passed += 1
            print(f"ok   {fn.__name__} ({time.monotonic() - start:.2f} s)", flush=True)
        except Exception as e:  # noqa: BLE001: every failure is a result
            failed += 1
            here = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == __file__]
            line = f" (suite.py line {here[-1].lineno})" if here else ""
            print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}{line}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
