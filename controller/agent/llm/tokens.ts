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
  encodeCount = (text) => bundled.encode(text).length;
}

export function countTokens(text: string): number {
  if (!encodeCount) throw new Error('the tokenizer is not loaded (call loadTokenizer first)');
  return text ? encodeCount(text) : 0;
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
