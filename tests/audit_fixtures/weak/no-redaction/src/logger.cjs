const pino = require('pino');
const pinoHttp = require('pino-http');

const logger = pino();

module.exports = { logger, httpLogger: pinoHttp() };
