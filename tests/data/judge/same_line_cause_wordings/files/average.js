export function average(items) {
  const total = items.reduce((a, b) => a + b, 0);
  const avg = total / items.length;
  return Math.round(avg);
}
