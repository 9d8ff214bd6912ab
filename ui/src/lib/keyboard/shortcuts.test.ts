import { describe, expect, it } from 'vitest';
import { shortcutFor, type FocusKind, type KeyPress, type Shortcut } from './shortcuts';

function press(key: string, mods: Partial<KeyPress> = {}): KeyPress {
  return { key, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods };
}

function check(cases: [KeyPress, FocusKind, Shortcut | null][]): void {
  for (const [p, focus, expected] of cases) {
    expect(shortcutFor(p, focus), `${JSON.stringify(p)} in ${focus}`).toBe(expected);
  }
}

describe('shortcutFor', () => {
  it('focuses search with / outside text fields and with Ctrl/Cmd+F anywhere', () => {
    check([
      [press('/'), 'other', 'focusSearch'],
      [press('/'), 'control', 'focusSearch'],
      [press('/'), 'text', null],
      [press('f', { ctrlKey: true }), 'text', 'focusSearch'],
      [press('F', { ctrlKey: true }), 'other', 'focusSearch'],
      [press('f', { metaKey: true }), 'other', 'focusSearch'],
      [press('f', { ctrlKey: true, shiftKey: true }), 'other', null],
      [press('f'), 'other', null],
    ]);
  });

  it('undoes with Ctrl/Cmd+Z, except in a text field, where it undoes typing', () => {
    check([
      [press('z', { ctrlKey: true }), 'other', 'undo'],
      [press('Z', { metaKey: true }), 'control', 'undo'],
      [press('z', { ctrlKey: true }), 'text', null],
      [press('z', { ctrlKey: true, shiftKey: true }), 'other', null],
      [press('z'), 'other', null],
    ]);
  });

  it('quits with Ctrl/Cmd+Q wherever focus is; plain Q stays the queue', () => {
    check([
      [press('q', { ctrlKey: true }), 'other', 'quit'],
      [press('Q', { metaKey: true }), 'text', 'quit'],
      [press('q', { ctrlKey: true, shiftKey: true }), 'other', null],
      [press('q'), 'other', 'toggleQueue'],
    ]);
  });

  it('toggles playback with Space only where Space has no other meaning', () => {
    check([
      [press(' '), 'other', 'togglePlayback'],
      [press(' '), 'text', null],
      [press(' '), 'control', null],
      [press(' '), 'choice', null],
      [press(' ', { ctrlKey: true }), 'other', null],
      [press(' ', { shiftKey: true }), 'other', null],
      [press('MediaPlayPause'), 'text', 'togglePlayback'],
    ]);
  });

  it('goes back with Alt+Left outside text fields and with the Back key', () => {
    check([
      [press('ArrowLeft', { altKey: true }), 'other', 'back'],
      [press('ArrowLeft', { altKey: true }), 'control', 'back'],
      [press('ArrowLeft', { altKey: true }), 'text', null],
      [press('ArrowLeft'), 'other', 'seekBack'],
      [press('ArrowLeft', { altKey: true, shiftKey: true }), 'other', null],
      [press('ArrowLeft', { altKey: true, ctrlKey: true }), 'other', null],
      [press('BrowserBack'), 'text', 'back'],
    ]);
  });

  it('leaves other keys alone', () => {
    check([
      [press('Enter'), 'other', null],
      [press('Escape'), 'text', null],
      [press('k'), 'other', null],
    ]);
  });

  it('seeks with the arrows and skips tracks with Ctrl, but not where arrows move something', () => {
    check([
      [press('ArrowLeft'), 'other', 'seekBack'],
      [press('ArrowRight'), 'other', 'seekForward'],
      [press('ArrowRight'), 'range', null],
      [press('ArrowRight'), 'text', null],
      [press('ArrowRight'), 'choice', null],
      [press('ArrowDown', { ctrlKey: true }), 'choice', null],
      [press('ArrowLeft', { ctrlKey: true }), 'range', null],
      [press('ArrowLeft', { ctrlKey: true }), 'other', 'previous'],
      [press('ArrowRight', { metaKey: true }), 'other', 'next'],
      [press('ArrowUp', { ctrlKey: true }), 'other', 'volumeUp'],
      [press('ArrowDown', { ctrlKey: true }), 'other', 'volumeDown'],
      [press('ArrowDown', { ctrlKey: true }), 'text', null],
      [press('ArrowUp'), 'other', null],
      [press('MediaTrackNext'), 'text', 'next'],
      [press(' '), 'range', 'togglePlayback'],
    ]);
  });

  it('keeps the arrow shortcuts where a click left focus on a button, whose arrows do nothing', () => {
    check([
      [press('ArrowLeft'), 'control', 'seekBack'],
      [press('ArrowRight'), 'control', 'seekForward'],
      [press('ArrowRight', { ctrlKey: true }), 'control', 'next'],
      [press('ArrowLeft', { metaKey: true }), 'control', 'previous'],
      [press('ArrowUp', { ctrlKey: true }), 'control', 'volumeUp'],
      [press('ArrowDown', { ctrlKey: true }), 'control', 'volumeDown'],
      [press('ArrowUp'), 'control', null],
    ]);
  });

  it('opens help with ? and the queue with Q, outside text fields', () => {
    check([
      [press('?', { shiftKey: true }), 'other', 'help'],
      [press('?'), 'text', null],
      [press('q'), 'other', 'toggleQueue'],
      [press('q'), 'text', null],
      [press('q'), 'control', 'toggleQueue'],
      [press('q'), 'choice', null],
    ]);
  });
});
