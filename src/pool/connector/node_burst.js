// Node's https.Agent on bursts of new sockets: how many TLS handshakes resume. Used by
// src/pool/connector/node_burst.rs, which runs poolsweep's Agent on the same bursts.
//
// Usage: node node_burst.js PORT CA_PEM MAX_SOCKETS WARM BURSTS
//   WARM requests one after another first, then each burst (a comma-separated list of
//   sizes) at once; between bursts, agent.destroy() and wait until every socket closed, so
//   that the next burst opens new sockets (the session cache survives destroy()).
// Prints one JSON line: {"node", "openssl", "sockets", "full", "resumed"}, from each
// socket's isSessionReused().
'use strict';
const https = require('https');
const fs = require('fs');

const [port, caPath, maxSockets, warm, bursts] = process.argv.slice(2);
const ca = fs.readFileSync(caPath);
const agent = new https.Agent({ keepAlive: true, maxSockets: Number(maxSockets) });
const reused = new Map();

function get() {
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1', servername: 'localhost', port: Number(port),
      path: '/__mock/health', agent, ca,
    };
    const req = https.get(options, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('socket', (socket) => {
      if (!reused.has(socket)) {
        reused.set(socket, null);
        socket.once('secureConnect', () => reused.set(socket, socket.isSessionReused()));
      }
    });
    req.on('error', reject);
  });
}

function allClosed() {
  return new Promise((resolve) => {
    const check = () => {
      const open = Object.keys(agent.sockets).length + Object.keys(agent.freeSockets).length;
      if (open === 0) resolve(); else setImmediate(check);
    };
    check();
  });
}

(async () => {
  for (let i = 0; i < Number(warm); i++) await get();
  const sizes = bursts.split(',').map(Number);
  for (let i = 0; i < sizes.length; i++) {
    if (i > 0) {
      agent.destroy();
      await allClosed();
    }
    await Promise.all(Array.from({ length: sizes[i] }, get));
  }
  const values = [...reused.values()];
  console.log(JSON.stringify({
    node: process.version,
    openssl: process.versions.openssl,
    sockets: values.length,
    full: values.filter((r) => r === false).length,
    resumed: values.filter((r) => r === true).length,
  }));
  agent.destroy();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
