import { describe, expect, it, vi } from 'vitest';
import type { ScanReport } from '$lib/backend';
import { FolderScan, type ScanDisplay } from './scan.svelte';

const REPORT: ScanReport = {
  folder: '/music',
  filesSeen: 3,
  added: 3,
  updated: 0,
  unchanged: 0,
  removed: 0,
  problems: [],
};

function display(): ScanDisplay & { log: string[]; running: boolean; stopping: boolean } {
  const d = {
    running: false,
    stopping: false,
    log: [] as string[],
    begin(folder: string) {
      d.running = true;
      d.log.push(`begin ${folder}`);
    },
    end() {
      d.running = false;
      d.log.push('end');
    },
  };
  return d;
}

describe('FolderScan', () => {
  it('scans the chosen folder and shows the report', async () => {
    const d = display();
    const afterScan = vi.fn();
    const scan = new FolderScan(
      { chooseFolder: () => Promise.resolve('/music'), addFolder: () => Promise.resolve(REPORT) },
      d,
      afterScan,
      vi.fn(),
    );
    await scan.addFolder();
    expect(scan.phase).toBe('done');
    expect(scan.report).toEqual(REPORT);
    expect(d.log).toEqual(['begin /music', 'end']);
    expect(afterScan).toHaveBeenCalledOnce();
  });

  it('does nothing when the user cancels the dialog', async () => {
    const addFolder = vi.fn(() => Promise.resolve(REPORT));
    const scan = new FolderScan({ chooseFolder: () => Promise.resolve(null), addFolder }, display(), vi.fn(), vi.fn());
    await scan.addFolder();
    expect(addFolder).not.toHaveBeenCalled();
    expect(scan.phase).toBe('idle');
  });

  it('does not start while another scan runs', async () => {
    const d = display();
    d.running = true;
    const chooseFolder = vi.fn(() => Promise.resolve('/music'));
    const scan = new FolderScan({ chooseFolder, addFolder: () => Promise.resolve(REPORT) }, d, vi.fn(), vi.fn());
    expect(scan.busy).toBe(true);
    await scan.addFolder();
    expect(chooseFolder).not.toHaveBeenCalled();
  });

  it('reports a failed scan, but not one the user stopped', async () => {
    const onError = vi.fn();
    const d = display();
    const scan = new FolderScan(
      { chooseFolder: () => Promise.resolve('/music'), addFolder: () => Promise.reject(new Error('cancelled')) },
      d,
      vi.fn(),
      onError,
    );
    d.stopping = true;
    await scan.addFolder();
    expect(onError).not.toHaveBeenCalled();
    expect(scan.phase).toBe('idle');
    d.stopping = false;
    await scan.addFolder();
    expect(onError).toHaveBeenCalledOnce();
  });
});
