const pino = require('pino');
const pinoHttp = require('pino-http');

// Credentials never reach a log line, whatever a request or an error carries (G2).
const logger = pino({
  redact: {
    paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'],
    censor: '[Redacted]',
  },
});

module.exports = { logger, httpLogger: pinoHttp({ logger }) };
