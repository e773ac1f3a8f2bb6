/**
 * The `Name:value` header lines of a task's `http.headers`: how the agents
 * split them, and what the validator refuses before they reach the wire.
 */

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** CR, LF, NUL and the other controls (tab is allowed in a value, as HTTP allows it). */
function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** Splits `"Name:value"`; the value may itself contain ':'. */
export function parseHeaderLine(line: string): { name: string; value: string } | undefined {
  const colon = line.indexOf(':');
  if (colon <= 0) return undefined;
  const name = line.slice(0, colon).trim();
  if (!HEADER_NAME.test(name)) return undefined;
  return { name, value: line.slice(colon + 1).trim() };
}

/**
 * What is wrong with a `Name:value` header line, if anything. A CR or LF would
 * split the request on the wire (every request then failed as 599), so
 * controls are refused here, where the field can be named.
 */
export function headerLineProblem(line: string): string | undefined {
  const colon = line.indexOf(':');
  if (colon <= 0) return 'must look like "Name:value"';
  if (!HEADER_NAME.test(line.slice(0, colon).trim())) return 'the header name must be a token (letters, digits and !#$%&\'*+-.^_`|~), without spaces or controls';
  if (hasControlChar(line)) return 'must not hold control characters (CR, LF, NUL, ...)';
  return undefined;
}
