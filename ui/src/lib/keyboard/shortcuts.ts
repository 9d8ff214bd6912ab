// App-wide keyboard shortcuts, decided from a key press and where focus is.

export type Shortcut =
  | 'focusSearch'
  | 'togglePlayback'
  | 'back'
  | 'seekBack'
  | 'seekForward'
  | 'previous'
  | 'next'
  | 'volumeUp'
  | 'volumeDown'
  | 'toggleQueue'
  | 'undo'
  | 'quit'
  | 'help';

/** Every shortcut as the help overlay lists it, in that order. */
export const SHORTCUT_HELP: { keys: string; does: string }[] = [
  { keys: 'Space', does: 'Play or pause' },
  { keys: '← / →', does: 'Seek back or forward 5 seconds' },
  { keys: 'Ctrl + ← / →', does: 'Previous or next track' },
  { keys: 'Ctrl + ↑ / ↓', does: 'Volume up or down' },
  { keys: 'Q', does: 'Show or hide the queue' },
  { keys: 'Alt + ↑ / ↓', does: 'Move the focused queue entry' },
  { keys: 'Delete', does: 'Remove the focused queue entry' },
  { keys: '/ or Ctrl + F', does: 'Search' },
  { keys: 'Enter', does: 'Play the focused song' },
  { keys: 'E', does: 'Add the focused song to Emergency Essentials' },
  { keys: 'Ctrl + Z', does: 'Undo deleting a playlist' },
  { keys: 'I', does: 'Details of the focused song' },
  { keys: 'Shift + F10 or Menu', does: 'Menu of the focused song: play next, add to a playlist…' },
  { keys: 'Alt + ←', does: 'Back' },
  { keys: 'Ctrl + Q', does: 'Quit' },
  { keys: '?', does: 'This list' },
  { keys: 'Esc', does: 'Close a panel or this list' },
];

/** Where a key press happened, as far as shortcuts care. */
export type FocusKind =
  /** Typing goes into it: text inputs, text areas, editable content. */
  | 'text'
  /**
   * Space and Enter already activate it (buttons, links, summaries, checkboxes); its
   * arrow keys do nothing, so the arrow shortcuts still work where a click left focus.
   */
  | 'control'
  /** Its arrow keys and Space choose within it: selects, radio buttons, menus, tabs. */
  | 'choice'
  /** A slider: its arrow keys move it, Space is free. */
  | 'range'
  /** Nothing of its own for these keys: the page, a list's row or option. */
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
  // In a text field Ctrl+Z undoes typing.
  if (command && !press.altKey && !press.shiftKey && press.key.toLowerCase() === 'z' && focus !== 'text') return 'undo';
  if (command && !press.altKey && !press.shiftKey && press.key.toLowerCase() === 'q') return 'quit';
  if (press.key === 'MediaPlayPause') return 'togglePlayback';
  if (press.key === 'BrowserBack') return 'back';
  if (press.altKey && !command && !press.shiftKey && press.key === 'ArrowLeft' && focus !== 'text') return 'back';
  if (press.key === 'MediaTrackNext') return 'next';
  if (press.key === 'MediaTrackPrevious') return 'previous';
  // A list that moves focus with its arrows handles them itself and takes the key
  // (`preventDefault`), so its rows count as 'other'.
  const arrows = (focus === 'other' || focus === 'control') && !press.altKey && !press.shiftKey;
  if (arrows && command) {
    if (press.key === 'ArrowLeft') return 'previous';
    if (press.key === 'ArrowRight') return 'next';
    if (press.key === 'ArrowUp') return 'volumeUp';
    if (press.key === 'ArrowDown') return 'volumeDown';
  }
  if (command || press.altKey) return null;
  if (arrows && press.key === 'ArrowLeft') return 'seekBack';
  if (arrows && press.key === 'ArrowRight') return 'seekForward';
  if (press.key === '/' && focus !== 'text') return 'focusSearch';
  if (press.key === '?' && focus !== 'text') return 'help';
  if ((press.key === 'q' || press.key === 'Q') && !press.shiftKey && focus !== 'text' && focus !== 'choice') {
    return 'toggleQueue';
  }
  if (press.key === ' ' && (focus === 'other' || focus === 'range') && !press.shiftKey) return 'togglePlayback';
  return null;
}

const TEXT_INPUT_TYPES = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', '']);
const CONTROL_ROLES = new Set(['button', 'link', 'checkbox', 'switch']);
const CHOICE_ROLES = new Set(['menuitem', 'menuitemcheckbox', 'menuitemradio', 'tab', 'radio', 'combobox']);

/** Classifies the element a key event was aimed at. */
export function focusKindOf(target: EventTarget | null): FocusKind {
  if (!(target instanceof HTMLElement)) return 'other';
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return 'text';
  if (target instanceof HTMLInputElement) {
    if (TEXT_INPUT_TYPES.has(target.type)) return 'text';
    if (target.type === 'range') return 'range';
    return target.type === 'radio' ? 'choice' : 'control';
  }
  const role = target.getAttribute('role') ?? '';
  if (target instanceof HTMLSelectElement || CHOICE_ROLES.has(role)) return 'choice';
  if (
    target instanceof HTMLButtonElement ||
    target instanceof HTMLAnchorElement ||
    target.tagName === 'SUMMARY' ||
    CONTROL_ROLES.has(role)
  ) {
    return 'control';
  }
  return 'other';
}
