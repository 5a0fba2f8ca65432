/**
 * Reading responses in tests: the body as JSON, with the status and the start of the text in the
 * failure message when it is not JSON.
 */
export async function readJson(res: Response): Promise<Record<string, any>> {
  const text = await res.text();
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 300)}`);
  }
}
