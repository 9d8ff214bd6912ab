// App-wide keyboard shortcuts, decided from a key press and where focus is.

export type Shortcut = 'focusSearch' | 'togglePlayback' | 'back';

/** Where a key press happened, as far as shortcuts care. */
export type FocusKind =
  /** Typing goes into it: text inputs, text areas, editable content. */
  | 'text'
  /** Space and Enter already activate it: buttons, links, summaries, selects, checkboxes. */
  | 'control'
  | 'other';

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

export function shortcutFor(press: KeyPress, focus: FocusKind): Shortcut | null {
  const command = press.ctrlKey || press.metaKey;
  if (command && !press.altKey && !press.shiftKey && press.key.toLowerCase() === 'f') return 'focusSearch';
  if (press.key === 'MediaPlayPause') return 'togglePlayback';
  if (press.key === 'BrowserBack') return 'back';
  if (press.altKey && !command && !press.shiftKey && press.key === 'ArrowLeft' && focus !== 'text') return 'back';
  if (command || press.altKey) return null;
  if (press.key === '/' && focus !== 'text') return 'focusSearch';
  if (press.key === ' ' && focus === 'other' && !press.shiftKey) return 'togglePlayback';
  return null;
}

const TEXT_INPUT_TYPES = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', '']);
const CONTROL_ROLES = new Set(['button', 'link', 'checkbox', 'switch', 'menuitem', 'tab', 'option']);

/** Classifies the element a key event was aimed at. */
export function focusKindOf(target: EventTarget | null): FocusKind {
  if (!(target instanceof HTMLElement)) return 'other';
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return 'text';
  if (target instanceof HTMLInputElement) {
    if (TEXT_INPUT_TYPES.has(target.type)) return 'text';
    return target.type === 'range' ? 'other' : 'control';
  }
  if (
    target instanceof HTMLButtonElement ||
    target instanceof HTMLSelectElement ||
    target instanceof HTMLAnchorElement ||
    target.tagName === 'SUMMARY' ||
    CONTROL_ROLES.has(target.getAttribute('role') ?? '')
  ) {
    return 'control';
  }
  return 'other';
}
