/**
 * The agent's token counter. By default the bundled tokenizer (gpt-tokenizer,
 * o200k_base), loaded only by agents that run an LLM task: its tables cost
 * ~100 ms and ~80 MB, which a plain HTTP agent should not pay. Counts are
 * those of OpenAI's recent models; for other models they are an estimate,
 * which is why `usage` wins when present. `llm.tokenizer` replaces it with
 * the model's own Hugging Face tokenizer.json (@huggingface/tokenizers).
 */
type Encode = (text: string) => number;

let encodeCount: Encode | null = null;

/**
 * Byte-pair encoding is quadratic in the length of one pre-tokenized piece:
 * a run of 80,000 letters without a break took 4 s, and a 300 KB one-word
 * answer pinned the agent. A piece is at most one run of letters, of
 * punctuation or of spaces (and digits go by three), so a run of one of those
 * longer than this is counted in slices of this length, and the cost is
 * linear in the text. Text without such a run (prose, code, CJK between its
 * punctuation) counts exactly as one encode of the whole; a longer run counts
 * a token or so more or less per slice.
 */
export const MAX_RUN_CHARS = 256;

/** The model's tokenizer.json (its text), or the bundled encoding when none is given. */
export async function loadTokenizer(hf?: { json: string }): Promise<void> {
  if (hf) {
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const tokenizer = new Tokenizer(JSON.parse(hf.json) as object, {});
    // the prompt's own tokens: no BOS/EOS the post-processor would add
    encodeCount = (text) => tokenizer.encode(text, { add_special_tokens: false }).ids.length;
    return;
  }
  const bundled = await import('gpt-tokenizer');
  // A service may write `<|endoftext|>` in its answer: counted as the text it is, never thrown on.
  const asText = { disallowedSpecial: new Set<string>() };
  encodeCount = (text) => bundled.countTokens(text, asText);
}

const enum Run {
  /** Digits and controls: never a long piece (digits are split by three). */
  None,
  Letter,
  Space,
  Punct,
}

const LETTER = /[\p{L}\p{M}]/u;
/** Run class + 1 of each UTF-16 unit, filled as met (0: not yet); surrogates count as symbols (emoji). */
const classes = new Uint8Array(65536);

function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0x85 || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000;
}

function runOf(code: number): Run {
  const known = classes[code];
  if (known !== 0) return known - 1;
  let run: Run;
  if (isSpace(code)) run = Run.Space;
  else if ((code >= 0x30 && code <= 0x39) || code < 0x20 || code === 0x7f) run = Run.None;
  else if (code >= 0xd800 && code <= 0xdfff) run = Run.Punct;
  else run = LETTER.test(String.fromCharCode(code)) ? Run.Letter : Run.Punct;
  classes[code] = run + 1;
  return run;
}

/** Tokens of a run too long to encode whole: its slices', never cutting a surrogate pair. */
function countLongRun(encode: Encode, text: string, from: number, to: number): number {
  let tokens = 0;
  for (let at = from; at < to; ) {
    let end = Math.min(to, at + MAX_RUN_CHARS);
    const last = text.charCodeAt(end - 1);
    if (end < to && last >= 0xd800 && last <= 0xdbff) end++;
    tokens += encode(text.slice(at, end));
    at = end;
  }
  return tokens;
}

export function countTokens(text: string): number {
  const encode = encodeCount;
  if (!encode) throw new Error('the tokenizer is not loaded (call loadTokenizer first)');
  if (!text) return 0;
  // One pass finds the runs longer than MAX_RUN_CHARS; the text between them is encoded as it is.
  let tokens = 0;
  let done = 0;
  let runStart = 0;
  let run: Run | -1 = runOf(text.charCodeAt(0));
  for (let i = 1; i <= text.length; i++) {
    const next = i < text.length ? runOf(text.charCodeAt(i)) : -1; // -1: the end closes the last run
    if (next === run) continue;
    if (run !== Run.None && i - runStart > MAX_RUN_CHARS) {
      if (runStart > done) tokens += encode(text.slice(done, runStart));
      tokens += countLongRun(encode, text, runStart, i);
      done = i;
    }
    runStart = i;
    run = next;
  }
  return done === 0 ? encode(text) : tokens + (done < text.length ? encode(text.slice(done)) : 0);
}

/**
 * Words that are one token each with a leading space, and stay one token each
 * when concatenated (the pre-tokenizer splits before every space-led word):
 * a prompt of N of them is exactly N tokens.
 */
export const PROMPT_WORDS: readonly string[] = (
  'time year people way day man thing woman life child world school state family student group country problem hand part ' +
  'place case week company system program question work government number night point home water room mother area money ' +
  'story fact month lot right study book eye job word business issue side kind head house service friend father power hour ' +
  'game line end member law car city community name president team minute idea kid body information back parent face others ' +
  'level office door health person art war history party result change morning reason research girl guy moment air teacher force education'
)
  .split(' ')
  .map((w) => ` ${w}`);

/**
 * Prompt words that are two tokens without their leading space, as the first
 * word of a prompt is sent (`unit/llm-datasets.test.ts` proves the list against
 * the bundled encoding): a prompt never starts with one, so its token count
 * stays its word count.
 */
export const TWO_TOKENS_LEADING: ReadonlySet<string> = new Set([' president', ' morning', ' guy']);
