import { describe, expect, it } from 'vitest';
import type { ScanProblem } from '$lib/backend';
import { countByKind, problemKindLabel, splitPath } from './problems';

describe('problemKindLabel', () => {
  it('names every kind', () => {
    expect(problemKindLabel('corrupt')).toBe('Corrupt');
    expect(problemKindLabel('unsupported')).toBe('Unsupported format');
    expect(problemKindLabel('permissionDenied')).toBe('Permission denied');
    expect(problemKindLabel('notAudio')).toBe('Not audio');
  });
});

describe('countByKind', () => {
  it('counts each kind, fixable kinds first', () => {
    const p = (kind: ScanProblem['kind']): ScanProblem => ({ path: '/x', kind, reason: '' });
    expect(countByKind([p('notAudio'), p('corrupt'), p('notAudio'), p('permissionDenied')])).toEqual([
      { kind: 'permissionDenied', count: 1 },
      { kind: 'corrupt', count: 1 },
      { kind: 'notAudio', count: 2 },
    ]);
    expect(countByKind([])).toEqual([]);
  });
});

describe('splitPath', () => {
  it('splits on either separator', () => {
    const cases: [string, { name: string; folder: string }][] = [
      ['/music/a/b.mp3', { name: 'b.mp3', folder: '/music/a' }],
      ['C:\\Music\\x.flac', { name: 'x.flac', folder: 'C:\\Music' }],
      ['/b.mp3', { name: 'b.mp3', folder: '/' }],
      ['b.mp3', { name: 'b.mp3', folder: '' }],
    ];
    for (const [path, expected] of cases) expect(splitPath(path), path).toEqual(expected);
  });
});
