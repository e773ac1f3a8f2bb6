/**
 * `+---+` bordered tables as the original eascmd prints them (it used Go's
 * tablewriter): headers upper-cased and centred (extra space goes right),
 * one space of padding, numbers right-aligned, text left-aligned.
 * Hand-written rather than cli-table3 because cli-table3 centres, pads and
 * wraps differently and we want the reference shapes byte for byte.
 */
import { shownText } from './safe-text';

export type Cell = string | number;
export type Align = 'left' | 'right' | 'center';

export interface TableOptions {
  /** Per-column alignment of body cells; default: numbers right, text left. */
  align?: readonly (Align | undefined)[];
}

/** Visible width of a cell line. Code points, so a non-BMP character counts once. */
export function displayWidth(text: string): number {
  return [...text].length;
}

function pad(text: string, width: number, align: Align): string {
  const gap = Math.max(0, width - displayWidth(text));
  if (align === 'right') return ' '.repeat(gap) + text;
  if (align === 'center') {
    const left = Math.floor(gap / 2);
    return ' '.repeat(left) + text + ' '.repeat(gap - left);
  }
  return text + ' '.repeat(gap);
}

function border(widths: readonly number[]): string {
  return `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
}

function row(cells: readonly string[], widths: readonly number[], aligns: readonly Align[]): string {
  return `|${cells.map((c, i) => ` ${pad(c, widths[i], aligns[i])} `).join('|')}|`;
}

/** Rows of a table whose cells may hold several lines (`\n`). */
function multiLineRows(cells: readonly string[], widths: readonly number[], aligns: readonly Align[]): string[] {
  const split = cells.map((c) => c.split('\n'));
  const height = Math.max(1, ...split.map((lines) => lines.length));
  const out: string[] = [];
  for (let i = 0; i < height; i++) out.push(row(split.map((lines) => lines[i] ?? ''), widths, aligns));
  return out;
}

/** A table with a header row, as `bench ls` prints it. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[], options: TableOptions = {}): string {
  // escaped before the widths are taken, so the columns line up with what is shown
  const text = rows.map((r) => headers.map((_, i) => (r[i] === undefined ? '' : shownText(String(r[i])))));
  const widths = headers.map((h, i) =>
    Math.max(displayWidth(h), ...text.map((r) => Math.max(...r[i].split('\n').map(displayWidth)))),
  );
  const lines = [border(widths), row(headers.map((h) => h.toUpperCase()), widths, headers.map(() => 'center')), border(widths)];
  for (const [ri, r] of rows.entries()) {
    const aligns = headers.map((_, i): Align => options.align?.[i] ?? (typeof r[i] === 'number' ? 'right' : 'left'));
    lines.push(...multiLineRows(text[ri], widths, aligns));
  }
  if (rows.length > 0) lines.push(border(widths));
  return lines.join('\n');
}

/**
 * Breaks one line into pieces of at most `width` characters, at the last
 * space when there is one (the space is dropped), otherwise mid-word.
 * Continuations start at the cell's left edge, as in the reference's desc sample.
 */
function wrapLine(line: string, width: number): string[] {
  const out: string[] = [];
  let rest = line;
  while (displayWidth(rest) > width) {
    const chars = [...rest];
    const head = chars.slice(0, width + 1).join('');
    const leading = /^ */.exec(head)?.[0].length ?? 0;
    const space = head.lastIndexOf(' ');
    if (space > leading) {
      out.push(head.slice(0, space));
      rest = rest.slice(space + 1);
    } else {
      out.push(chars.slice(0, width).join(''));
      rest = chars.slice(width).join('');
    }
  }
  out.push(rest);
  return out;
}

/** Wraps text (which may hold newlines) to `width` columns. */
export function wrapText(text: string, width: number): string[] {
  return text.split('\n').flatMap((line) => wrapLine(line, width));
}

/** Width of the value column of `bench desc`, as in the reference sample. */
export const DESC_VALUE_WIDTH = 76;

export interface KeyValueOptions {
  /** Fixed width of the value column; longer values wrap. */
  valueWidth?: number;
}

/**
 * The two-column table of `bench desc`: no header, keys right-aligned, values
 * left-aligned in a fixed-width column that wraps long values (the Config JSON).
 */
export function renderKeyValueTable(rows: readonly (readonly [string, Cell])[], options: KeyValueOptions = {}): string {
  const valueWidth = options.valueWidth ?? DESC_VALUE_WIDTH;
  const keyWidth = Math.max(0, ...rows.map(([k]) => displayWidth(k)));
  const widths = [keyWidth, valueWidth];
  const aligns: Align[] = ['right', 'left'];
  const lines = [border(widths)];
  for (const [key, value] of rows) {
    const wrapped = wrapText(shownText(String(value)), valueWidth);
    wrapped.forEach((piece, i) => lines.push(row([i === 0 ? key : '', piece], widths, aligns)));
  }
  lines.push(border(widths));
  return lines.join('\n');
}
