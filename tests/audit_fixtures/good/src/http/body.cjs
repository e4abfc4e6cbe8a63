const express = require('express');

// Bodies over 100 kB are refused with 413 before they fill memory (A1).
module.exports = express.json({ limit: '100kb' });
