// Placeholder cover art: initials and a colour that stay the same for an album.

/** Up to two initials from the album's words, e.g. "Kind of Blue" → "KB". */
export function initialsOf(name: string): string {
  const words = name
    .split(/[\s\-_/&+.,:;()[\]]+/u)
    .filter((w) => /[\p{L}\p{N}]/u.test(w) && !MINOR_WORDS.has(w.toLowerCase()));
  const letters = words.map((w) => Array.from(w.replace(/^[^\p{L}\p{N}]+/u, ''))[0] ?? '');
  const picked = letters.length > 2 ? [letters[0], letters[letters.length - 1]] : letters;
  return picked.join('').toUpperCase() || '♪';
}

const MINOR_WORDS = new Set(['of', 'the', 'a', 'an', 'and', 'in', 'on', 'to', 'for', 'at', 'by']);

/** A hue in degrees, stable for a given name. */
export function hueOf(name: string): number {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return (hash >>> 0) % 360;
}
