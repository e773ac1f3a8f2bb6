/**
 * Text another party chose (agent ids and hosts, a task's Message and
 * events, service names, a service's error text) reaches the terminal only
 * through here: control characters (C0 but the line break, DEL, C1) and the
 * bidirectional controls that reorder what is shown (U+202E and its kin) are
 * written as `\uXXXX`, so a line cannot move the cursor, recolour the
 * terminal or read backwards. Ordinary text, any script, is left as it is.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** What JSON.stringify leaves raw that a terminal would act on (it escapes C0 itself). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escaped(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** The text with every unsafe character escaped; line breaks kept. Escaping twice changes nothing. */
export function shownText(text: string): string {
  return text.replace(UNSAFE, escaped);
}

/** JSON text (from JSON.stringify) with the characters it leaves raw escaped: the same value, safe to print. */
export function shownJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, escaped);
}
