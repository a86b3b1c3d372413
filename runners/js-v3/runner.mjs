// poolsweep's js-v3 client under test: the AWS SDK for JavaScript v3 (`@aws-sdk/client-s3` with
// `@smithy/node-http-handler`) on Node.js, driven by poolsweep over a line protocol.
//
// stdin and stdout carry one JSON object per line each way (PROTOCOL.md); stderr is for logs
// only. The runner never starts a request on its own: poolsweep sends each operation, the
// runner answers each with one `done` line, in completion order.
//
// The three client modes are the guide's ("Performance > Parallel workloads in Node.js"):
//   shared          one S3 client, requestHandler: new NodeHttpHandler({ httpsAgent:
//                   new https.Agent({ keepAlive, maxSockets }) })
//   per-request     a new client per operation, each with its own handler, Agent and
//                   credential provider, never destroyed by the code that made it (the
//                   anti-pattern of aws-sdk-js-v3#4345); the runner destroys them at the end
//                   of the run so that the next run starts clean
//   shared-handler  `clients` clients sharing one `credentials` and one `requestHandler`;
//                   operation `id` goes to client `id % clients`
//
// What is instrumented, and how, without changing what the SDK does:
//   - the Agent is a subclass of https.Agent that overrides only `addRequest` (to time the
//     wait for a socket: how long a request sat in the Agent's queue at maxSockets) and `createConnection` (to count sockets, the peak
//     open at once, and TLS handshakes, full or resumed by `socket.isSessionReused()`);
//   - one middleware per command, in the `deserialize` step at high priority (outside the
//     deserializer, inside the retry loop), sees every attempt: it maps the attempt's signed
//     request headers (the very object NodeHttpHandler passes to https.request) to the
//     operation, and classifies each failed attempt (throttling, transient, timeout, other);
//   - `$metadata.attempts` and `$metadata.totalRetryDelay` come from the SDK itself;
//   - process CPU time is `process.cpuUsage()` over the run.

import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import https from "node:https";
import { performance } from "node:perf_hooks";

import { GetObjectCommand, PutObjectCommand, S3 } from "@aws-sdk/client-s3";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const PROTOCOL = 1;
const PACKAGES = ["@aws-sdk/client-s3", "@aws-sdk/credential-provider-node", "@smithy/node-http-handler"];

// stdout belongs to the protocol: anything the SDK or Node logs goes to stderr.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

// ---- output: one JSON object per line, coalesced per turn of the event loop --------------

let pending = [];
let flushScheduled = false;

function flush() {
  flushScheduled = false;
  if (pending.length === 0) return;
  const text = pending.join("\n") + "\n";
  pending = [];
  process.stdout.write(text);
}

function send(message) {
  pending.push(JSON.stringify(message));
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

function sendNow(message) {
  pending.push(JSON.stringify(message));
  flush();
}

// ---- error classification ---------------------------------------------------------------

// smithy-typescript service-error-classification THROTTLING_ERROR_CODES.
const THROTTLING = new Set([
  "BandwidthLimitExceeded", "EC2ThrottledException", "LimitExceededException",
  "PriorRequestNotComplete", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
  "RequestThrottled", "RequestThrottledException", "SlowDown", "ThrottledException",
  "Throttling", "ThrottlingException", "TooManyRequestsException",
  "TransactionInProgressException",
]);
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_PREMATURE_CLOSE"]);

function errorCode(e) {
  return e?.code ?? e?.errno ?? e?.cause?.code;
}

/** The kind a failed operation is counted as: emfile, timeout, reset, slowdown or other. */
function errorKind(e) {
  const code = errorCode(e);
  if (code === "EMFILE" || code === "ENFILE" || /\bE[MN]FILE\b/.test(String(e?.message))) {
    return "emfile";
  }
  if (e?.name === "SlowDown") return "slowdown";
  if (RESET_CODES.has(code) || /socket hang up/.test(String(e?.message))) return "reset";
  if (code === "ETIMEDOUT" || e?.name === "TimeoutError" || e?.name === "RequestTimeout") {
    return "timeout";
  }
  return "other";
}

/** Why a failed attempt would be retried: index into [throttling, transient, timeout, other]. */
function retryReason(e) {
  const status = e?.$metadata?.httpStatusCode ?? e?.$response?.statusCode;
  if (THROTTLING.has(e?.name) || status === 429 || e?.$retryable?.throttling) return 0;
  const code = errorCode(e);
  if (code === "ETIMEDOUT" || (e?.name === "TimeoutError" && !RESET_CODES.has(code))) return 2;
  if (RESET_CODES.has(code) || code === "ECONNREFUSED" || (status >= 500 && status <= 504)
      || e?.name === "RequestTimeout" || e?.$retryable) {
    return 1;
  }
  return 3;
}

// ---- the run -----------------------------------------------------------------------------

/** The run in progress, or null. */
let run = null;
/** Signed request headers of an attempt -> its operation (for the Agent's socket wait). */
const attemptOf = new WeakMap();

function newStats() {
  return { opened: 0, open: 0, peak: 0, tlsFull: 0, tlsResumed: 0, connectErrors: 0 };
}

class CountingAgent extends https.Agent {
  constructor(options, stats) {
    super(options);
    this.poolsweepStats = stats;
  }

  addRequest(req, options) {
    super.addRequest(req, options);
    // Queued at maxSockets (the request is now last in the origin's queue): time it until the
    // Agent hands it a socket (`req.onSocket`, called by the 'free' handler or when a closed
    // socket is replaced). A request that got a free or new socket at once waited 0.
    const op = attemptOf.get(options.headers);
    const queue = op === undefined ? undefined : this.requests[this.getName({ ...options, ...this.options })];
    if (queue !== undefined && queue[queue.length - 1] === req) {
      const queued = performance.now();
      const onSocket = req.onSocket;
      req.onSocket = function assigned(socket, err) {
        op.socketWaitMs += performance.now() - queued;
        req.onSocket = onSocket;
        return onSocket.call(this, socket, err);
      };
    }
  }

  createConnection(...args) {
    const socket = super.createConnection(...args);
    const stats = this.poolsweepStats;
    let connected = false;
    socket.once("connect", () => {
      connected = true;
      stats.opened += 1;
      stats.open += 1;
      if (stats.open > stats.peak) stats.peak = stats.open;
    });
    socket.once("secureConnect", () => {
      if (socket.isSessionReused()) stats.tlsResumed += 1;
      else stats.tlsFull += 1;
    });
    socket.once("close", () => {
      if (connected) stats.open -= 1;
      else stats.connectErrors += 1;
    });
    return socket;
  }
}

// The handler's logger. NodeHttpHandler warns "socket usage at capacity=N and M additional
// requests are enqueued" (at most every 15 s) whenever maxSockets sockets are busy and twice
// as many requests wait: at every too-few point of a sweep, on purpose. The sweep measures what
// it warns of, per request (`socket_wait_ms`: time queued in the Agent), so that warning is
// dropped here instead of interleaving with poolsweep's progress; every other SDK log line
// goes to stderr as before.
const handlerLogger = {
  trace() {},
  debug() {},
  info() {},
  warn(...args) {
    if (String(args[0]).includes("socket usage at capacity")) return;
    console.error(...args);
  },
  error(...args) {
    console.error(...args);
  },
};

function makeHandler(settings, stats) {
  return new NodeHttpHandler({
    httpsAgent: new CountingAgent(
      { keepAlive: settings.keep_alive, maxSockets: settings.max_sockets ?? Infinity },
      stats,
    ),
    logger: handlerLogger,
  });
}

/** Points the SDK's default chain at the source the run asks for (it reads process.env). */
function credentialsFor(settings) {
  const c = settings.credentials;
  for (const name of [
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  ]) {
    delete process.env[name];
  }
  switch (c.source) {
    case "static":
      return () => ({
        accessKeyId: c.access_key_id,
        secretAccessKey: c.secret_access_key,
        ...(c.session_token ? { sessionToken: c.session_token } : {}),
      });
    case "container":
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = c.full_uri;
      if (c.token) process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = c.token;
      return undefined;
    case "imds":
      process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = c.endpoint;
      return undefined;
    default:
      throw new Error(`unknown credentials source ${JSON.stringify(c.source)}`);
  }
}

function startRun(msg) {
  if (run !== null) throw new Error(`run ${run.id} is still open`);
  const settings = msg;
  for (const field of ["mode", "endpoint", "region", "bucket", "credentials"]) {
    if (settings[field] === undefined) throw new Error(`start: missing field ${field}`);
  }
  const stats = newStats();
  // Static keys: an object literal per client (nothing to fetch). Remote sources: no
  // `credentials` at all, so that every client builds its own default chain, as an
  // application on ECS or EC2 does.
  const staticKeys = credentialsFor(settings);
  const base = {
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: true,
  };
  const build = (shared) => new S3({
    ...base,
    requestHandler: shared?.requestHandler ?? makeHandler(settings, stats),
    ...(shared?.credentials !== undefined
      ? { credentials: shared.credentials }
      : staticKeys !== undefined ? { credentials: staticKeys() } : {}),
  });
  const r = {
    id: msg.run,
    settings,
    stats,
    clients: [],
    inFlight: 0,
    whenIdle: null,
    cpu: process.cpuUsage(),
    ops: 0,
  };
  switch (settings.mode) {
    case "shared":
      r.clients.push(build());
      r.client = () => r.clients[0];
      break;
    case "per-request":
      r.client = () => {
        const c = build();
        r.clients.push(c);
        return c;
      };
      break;
    case "shared-handler": {
      const n = Math.max(1, settings.clients ?? 1);
      // The guide's second example: user-instantiated credentials (the Node provider chain)
      // and request handler, passed to every client.
      const credentials = staticKeys !== undefined ? staticKeys() : defaultProvider();
      const requestHandler = makeHandler(settings, stats);
      for (let i = 0; i < n; i++) r.clients.push(build({ credentials, requestHandler }));
      r.client = (id) => r.clients[id % n];
      break;
    }
    default:
      throw new Error(`unknown client mode ${JSON.stringify(settings.mode)}`);
  }
  run = r;
  send({ type: "started", run: r.id });
}

function attemptMiddleware(op) {
  return (next) => async (args) => {
    if (args.request?.headers !== undefined) attemptOf.set(args.request.headers, op);
    try {
      return await next(args);
    } catch (e) {
      op.failedAttempts.push(retryReason(e));
      throw e;
    }
  };
}

async function runOp(msg) {
  const r = run;
  const started = performance.now();
  const op = { socketWaitMs: 0, failedAttempts: [] };
  const reply = { type: "done", id: msg.id };
  if (r === null) {
    Object.assign(reply, { ok: false, error: { kind: "other", message: "no run started" } });
    send(reply);
    return;
  }
  r.inFlight += 1;
  r.ops += 1;
  let metadata;
  let bytes = 0;
  try {
    const client = r.client(msg.id);
    const params = { Bucket: r.settings.bucket, Key: msg.key };
    let command;
    if (msg.op === "put") {
      params.Body = body(msg.size ?? 0);
      command = new PutObjectCommand(params);
    } else if (msg.op === "get") {
      command = new GetObjectCommand(params);
    } else {
      throw Object.assign(new Error(`unknown op ${JSON.stringify(msg.op)}`), { name: "BadOp" });
    }
    command.middlewareStack.add(attemptMiddleware(op), {
      step: "deserialize",
      priority: "high",
      name: "poolsweepAttempt",
    });
    const out = await client.send(command);
    if (msg.op === "get") {
      for await (const chunk of out.Body) bytes += chunk.length;
    } else {
      bytes = msg.size ?? 0;
    }
    metadata = out.$metadata;
    reply.ok = true;
  } catch (e) {
    metadata = e?.$metadata;
    reply.ok = false;
    reply.error = {
      kind: errorKind(e),
      name: e?.name,
      code: errorCode(e),
      message: String(e?.message ?? e).slice(0, 300),
    };
  }
  const attempts = metadata?.attempts ?? Math.max(1, op.failedAttempts.length + (reply.ok ? 1 : 0));
  // Failed attempts that were followed by another attempt are the retries.
  const retried = reply.ok ? op.failedAttempts : op.failedAttempts.slice(0, -1);
  const retries = [0, 0, 0, 0];
  for (const reason of retried) retries[reason] += 1;
  Object.assign(reply, {
    latency_ms: performance.now() - started,
    socket_wait_ms: op.socketWaitMs,
    attempts,
    retry_delay_ms: metadata?.totalRetryDelay ?? 0,
    retries,
    bytes: reply.ok ? bytes : 0,
  });
  send(reply);
  r.inFlight -= 1;
  if (r.inFlight === 0 && r.whenIdle !== null) r.whenIdle();
}

async function finishRun(msg) {
  const r = run;
  if (r === null || r.id !== msg.run) throw new Error(`finish: run ${msg.run} is not open`);
  if (r.inFlight > 0) await new Promise((resolve) => { r.whenIdle = resolve; });
  const cpu = process.cpuUsage(r.cpu);
  for (const c of r.clients) c.destroy();
  // Sockets close asynchronously; give their 'close' events one turn to run.
  await new Promise((resolve) => setImmediate(resolve));
  run = null;
  const s = r.stats;
  send({
    type: "finished",
    run: r.id,
    ops: r.ops,
    clients: r.clients.length,
    sockets_opened: s.opened,
    peak_open: s.peak,
    tls_full: s.tlsFull,
    tls_resumed: s.tlsResumed,
    connect_errors: s.connectErrors,
    cpu_user_us: cpu.user,
    cpu_system_us: cpu.system,
  });
}

// One buffer for every PUT body: a slice per request, no copy (as poolsweep's workload does).
let buffer = Buffer.alloc(0);
function body(size) {
  if (buffer.length < size) buffer = Buffer.alloc(size, 0x5a);
  return buffer.subarray(0, size);
}

// ---- the protocol loop ----------------------------------------------------------------------

const require = createRequire(import.meta.url);
function versions() {
  const out = {};
  for (const name of PACKAGES) out[name] = require(`${name}/package.json`).version;
  return out;
}

let greeted = false;
let lineNo = 0;

function exitNow(status) {
  flush();
  for (const c of run?.clients ?? []) c.destroy();
  process.exit(status);
}

function handle(line) {
  lineNo += 1;
  if (line.trim() === "") return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    send({ type: "error", message: `line ${lineNo} is not JSON: ${e.message}` });
    return;
  }
  if (!greeted) {
    if (msg.type !== "hello") {
      sendNow({ type: "error", fatal: true, message: `expected hello first, got ${JSON.stringify(msg.type)}` });
      exitNow(2);
    }
    if (msg.protocol !== PROTOCOL) {
      sendNow({
        type: "error",
        fatal: true,
        message: `protocol ${msg.protocol} is not supported; this runner speaks ${PROTOCOL}`,
      });
      exitNow(2);
    }
    greeted = true;
    send({ type: "hello", protocol: PROTOCOL, node: process.version, packages: versions(), pid: process.pid });
    return;
  }
  try {
    switch (msg.type) {
      case "start":
        startRun(msg);
        break;
      case "op":
        runOp(msg);
        break;
      case "finish":
        finishRun(msg).catch((e) => send({ type: "error", message: String(e?.message ?? e) }));
        break;
      case "exit":
        exitNow(0);
        break;
      default:
        send({ type: "error", message: `unknown message type ${JSON.stringify(msg.type)}` });
    }
  } catch (e) {
    send({ type: "error", message: String(e?.message ?? e) });
  }
}

process.on("uncaughtException", (e) => {
  sendNow({ type: "error", fatal: true, message: `uncaught: ${e?.stack ?? e}` });
  exitNow(70);
});
process.on("unhandledRejection", (e) => {
  sendNow({ type: "error", fatal: true, message: `unhandled rejection: ${e?.stack ?? e}` });
  exitNow(70);
});

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", handle);
// poolsweep gone (exit, crash, kill): stdin ends, and so does the runner, in-flight work and all.
lines.on("close", () => exitNow(0));
