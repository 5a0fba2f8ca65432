/**
 * Responses and tokens in tests: the body as JSON, with the status and the start of the text in the
 * failure message when it is not JSON; a token with one character changed.
 */
export async function readJson(res: Response): Promise<Record<string, any>> {
  const text = await res.text();
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 300)}`);
  }
}

/**
 * `text` with its last character changed (to A, or to B when it is A): a forged token or MAC that is
 * never the real one. Tokens are signed with a secret that differs between runs, so a fixed replacement
 * character would leave the token intact in one run out of 64.
 */
export function withLastCharChanged(text: string): string {
  return text.slice(0, -1) + (text.endsWith('A') ? 'B' : 'A');
}
