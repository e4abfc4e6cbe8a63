const { Pool } = require('pg');
const { config } = require('./config.ts');

module.exports = new Pool({ connectionString: config.DATABASE_URL, max: 10 });
