import { describe, expect, it } from 'vitest';
import { folderName, pathInside } from './paths';

describe('folderName', () => {
  it('takes the last part with either separator', () => {
    const cases: [string, string][] = [
      ['/home/me/Music', 'Music'],
      ['/home/me/Music/', 'Music'],
      ['C:\\Users\\me\\Music', 'Music'],
      ['Music', 'Music'],
      ['/', '/'],
    ];
    for (const [input, expected] of cases) expect(folderName(input), input).toBe(expected);
  });
});

describe('pathInside', () => {
  it('shortens paths inside the folder and leaves others alone', () => {
    const cases: [string, string, string][] = [
      ['/music', '/music/a/b.mp3', 'a/b.mp3'],
      ['/music/', '/music/a.mp3', 'a.mp3'],
      ['/music', '/musicals/a.mp3', '/musicals/a.mp3'],
      ['/music', '/other/a.mp3', '/other/a.mp3'],
      ['D:\\Music', 'D:\\Music\\x.flac', 'x.flac'],
      ['', '/a.mp3', '/a.mp3'],
    ];
    for (const [folder, path, expected] of cases) expect(pathInside(folder, path), path).toBe(expected);
  });
});
