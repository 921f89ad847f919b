'use strict';

const fs = require('fs');

class Cache {
  constructor(limit = 10) {
    this.limit = limit;
    this.map = new Map();
  }

  get(key) {
    return this.map.get(key) ?? null;
  }
}

async function readConfig(path) {
  const text = await fs.promises.readFile(path, 'utf8');
  return JSON.parse(text);
}

module.exports = { Cache, readConfig, double: (x) => x * 2 };
