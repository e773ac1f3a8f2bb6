/** Splits by `\n` or `\r\n`; empty lines are not requests. */
export function splitLines(buffer: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= buffer.length; i++) {
    if (i === buffer.length || buffer[i] === 0x0a) {
      let end = i;
      if (end > start && buffer[end - 1] === 0x0d) end--;
      if (end > start) out.push(buffer.subarray(start, end));
      start = i + 1;
    }
  }
  return out;
}
