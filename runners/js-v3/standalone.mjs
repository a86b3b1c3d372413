// A second, independent measurement of the js-v3 numbers: the guide's batch loop written
// out in one Node.js process, with no protocol, no instrumentation and no poolsweep in the
// way. It prints one JSON line: objects/s and CPU per request.
//
//   NODE_EXTRA_CA_CERTS=ca.pem node runners/js-v3/standalone.mjs \
//     --endpoint https://127.0.0.1:9443 --bucket b --mode shared|per-request \
//     --batch 100 --max-sockets 25 --objects 2000 --size 16384 \
//     [--access-key K --secret-key S]   (else the default chain: set
//                                        AWS_CONTAINER_CREDENTIALS_FULL_URI and
//                                        AWS_CONTAINER_AUTHORIZATION_TOKEN)
//
// `poolsweep serve --profile s3-like --ca-out ca.pem` is a mock to run it against.

import https from "node:https";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

import { S3 } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const { values: a } = parseArgs({
  options: {
    endpoint: { type: "string" },
    bucket: { type: "string", default: "poolsweep" },
    region: { type: "string", default: "us-east-1" },
    mode: { type: "string", default: "shared" },
    batch: { type: "string", default: "100" },
    "max-sockets": { type: "string", default: "50" },
    objects: { type: "string", default: "2000" },
    size: { type: "string", default: "16384" },
    "access-key": { type: "string" },
    "secret-key": { type: "string" },
  },
});
if (!a.endpoint) throw new Error("--endpoint is required");
const batch = Number(a.batch);
const objects = Number(a.objects);
const maxSockets = a["max-sockets"] === "inf" ? Infinity : Number(a["max-sockets"]);
const body = Buffer.alloc(Number(a.size), 0x5a);
const credentials = a["access-key"]
  ? { accessKeyId: a["access-key"], secretAccessKey: a["secret-key"] }
  : undefined;

// Exactly the guide's client.
const newClient = () => new S3({
  region: a.region,
  endpoint: a.endpoint,
  forcePathStyle: true,
  ...(credentials ? { credentials } : {}),
  requestHandler: new NodeHttpHandler({
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
  }),
});

const shared = a.mode === "shared" ? newClient() : null;
const made = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let failed = 0;
for (let first = 0; first < objects; first += batch) {
  const keys = [];
  for (let i = first; i < Math.min(objects, first + batch); i++) keys.push(`standalone/${i}`);
  await Promise.all(keys.map(async (Key) => {
    let s3 = shared;
    if (s3 === null) {
      s3 = newClient();
      made.push(s3);
    }
    try {
      await s3.putObject({ Bucket: a.bucket, Key, Body: body });
    } catch (e) {
      failed += 1;
      if (failed <= 3) console.error(e);
    }
  }));
}
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
for (const c of [shared, ...made]) c?.destroy();
console.log(JSON.stringify({
  mode: a.mode,
  batch,
  max_sockets: a["max-sockets"],
  objects,
  failed,
  seconds,
  objects_per_s: (objects - failed) / seconds,
  cpu_ms_per_request: (cpu.user + cpu.system) / 1000 / objects,
}));
