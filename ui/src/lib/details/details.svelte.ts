// The track details panel: which track it shows, and its details once loaded.
// Opening another track while one loads shows only the latest.

import type { Track, TrackDetails } from '$lib/backend';
import { errorMessage } from '$lib/backend';

export interface DetailsSource {
  trackDetails(trackId: number): Promise<TrackDetails>;
}

export class TrackInfo {
  /** The track asked about; the panel is open while this is set. */
  track = $state.raw<Track | null>(null);
  details = $state.raw<TrackDetails | null>(null);
  /** Why the details could not be read. */
  error = $state<string | null>(null);

  #ticket = 0;
  readonly #source: DetailsSource;

  constructor(source: DetailsSource) {
    this.#source = source;
  }

  readonly open: boolean = $derived(this.track !== null);
  readonly loading: boolean = $derived(this.track !== null && this.details === null && this.error === null);

  async show(track: Track): Promise<void> {
    const ticket = ++this.#ticket;
    this.track = track;
    if (this.details?.track.id !== track.id) this.details = null;
    this.error = null;
    try {
      const details = await this.#source.trackDetails(track.id);
      if (ticket === this.#ticket) this.details = details;
    } catch (e) {
      if (ticket === this.#ticket) this.error = errorMessage(e);
    }
  }

  /** Opens the panel on `track`, or closes it when it already shows that track. */
  toggle(track: Track): Promise<void> {
    if (this.track?.id === track.id) {
      this.close();
      return Promise.resolve();
    }
    return this.show(track);
  }

  close(): void {
    this.#ticket += 1;
    this.track = null;
    this.details = null;
    this.error = null;
  }
}
