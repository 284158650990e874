/** The first line of an error's message (or of a text): what a one-line report of a failure shows. */
export function firstLineOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
