'use strict';

function clamp(x, lo, hi) {
  return Math.min(Math.max(x, lo), hi);
}

class Counter {
  constructor() {
    this.n = 0;
  }

  inc() {
    this.n += 2;
    return this.n;
  }
}

const double = (x) => {
  const y = x * 2;
  return y;
};

module.exports = { clamp, Counter, double };
