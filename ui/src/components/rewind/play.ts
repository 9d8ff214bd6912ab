// Playing a Rewind list: library tracks known by id, with failures shown as notices.

import { report } from '$lib/app';
import * as backend from '$lib/backend';

/** The most tracks one click queues. */
const LIMIT = 1000;

export async function playIds(ids: readonly number[], start = 0): Promise<void> {
  if (ids.length === 0) return;
  try {
    await backend.playTracks(ids.slice(0, LIMIT), Math.max(0, start));
  } catch (e) {
    report(e);
  }
}
