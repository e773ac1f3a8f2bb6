/** The HTML pieces every part of the report is built of (text escaped, tables), and its units. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function row(cells: (string | number)[], header = false): string {
  const tag = header ? 'th' : 'td';
  return `<tr>${cells.map((c) => `<${tag}>${escapeHtml(String(c))}</${tag}>`).join('')}</tr>`;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  return `<table>${row(headers, true)}${rows.map((r) => row(r)).join('')}</table>`;
}

/** Rows of a name and its value, the name as the row's header. */
export function keyValueTable(rows: [string, string | number][], className: string): string {
  return `<table class="${className}">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`).join('')}</table>`;
}

/** At most `digits` decimals; integers stay whole. */
export const fmt = (n: number, digits = 2): string => (Number.isInteger(n) ? String(n) : n.toFixed(digits));

/** A count with thousands separators: `96,704`. */
export const count = (n: number): string => n.toLocaleString('en-US');

/**
 * A time in ms to the precision it deserves: three significant figures
 * below 100 ms (`0.412 ms`, `4.56 ms`, `91.8 ms`), whole ms above (`1163 ms`).
 */
export function ms(value: number): string {
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return `${value.toFixed(digits)} ms`;
}

/** A fraction as a percent with two decimals, as the CLI prints it: `15.60%`. */
export const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`;

/** Requests per second: `12,088.3 req/s`. */
export const reqPerS = (qps: number): string => `${qps.toLocaleString('en-US', { maximumFractionDigits: 1 })} req/s`;
