// Showing file-system paths in little room. Paths come from the backend as
// strings in the platform's own form, so both separators are understood.

/** The last part of a path: "/home/me/Music/" → "Music". */
export function folderName(path: string): string {
  return path.split(/[\\/]+/).filter(Boolean).pop() ?? path;
}

/** `path` relative to `folder` when it lies inside it, else `path` unchanged. */
export function pathInside(folder: string, path: string): string {
  const base = folder.replace(/[\\/]+$/, '');
  if (base === '' || !path.startsWith(base)) return path;
  const rest = path.slice(base.length);
  return /^[\\/]/.test(rest) ? rest.replace(/^[\\/]+/, '') : path;
}
