/**
 * Runs once before the test files: probes the servers that some backends need and records
 * the unreachable ones in CONNECTOME_TEST_UNAVAILABLE (JSON: service -> reason), which the
 * test workers inherit. Suites for an unreachable server are skipped loudly off CI and fail on CI.
 */
const net = require('node:net');

function probe(urlText, defaultPort, greeting) {
  return new Promise((resolve) => {
    let url;
    try {
      url = new URL(urlText);
    } catch {
      resolve(`invalid URL`);
      return;
    }
    const host = url.hostname || '127.0.0.1';
    const port = Number(url.port || defaultPort);
    const socket = net.connect({ host, port });
    const done = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1500, () => done(`no answer from ${host}:${port} within 1.5 s`));
    socket.once('error', (error) => done(`${host}:${port}: ${error.code || error.message}`));
    socket.once('connect', () => {
      if (!greeting) return done(true);
      socket.write(greeting.send);
      socket.once('data', (data) =>
        done(data.toString().startsWith(greeting.expect) ? true : `unexpected reply from ${host}:${port}`),
      );
    });
  });
}

module.exports = async () => {
  const checks = {
    redis: probe(process.env.CONNECTOME_STORAGE_REDIS_URL || 'redis://127.0.0.1:6379', 6379, {
      send: 'PING\r\n',
      expect: '+PONG',
    }),
    postgres: probe(
      process.env.CONNECTOME_STORAGE_POSTGRES_URL || 'postgres://postgres:postgres@127.0.0.1:5432/test',
      5432,
    ),
  };
  const unavailable = {};
  for (const [service, check] of Object.entries(checks)) {
    const result = await check;
    if (result !== true) unavailable[service] = result;
  }
  process.env.CONNECTOME_TEST_UNAVAILABLE = JSON.stringify(unavailable);
};
