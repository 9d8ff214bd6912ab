// Which columns the track list has room for at a given width. The list, not
// the window, decides: the details panel can narrow it at any window size.

export interface TrackColumns {
  album: boolean;
  year: boolean;
  genre: boolean;
  /** `grid-template-columns` shared by the header and every row. */
  template: string;
}

/** Widths at which the optional columns appear. */
const GENRE_FROM = 860;
const YEAR_FROM = 620;

export function trackColumns(width: number, options: { album: boolean }): TrackColumns {
  // Without an album column the genre has room sooner.
  const genre = width >= (options.album ? GENRE_FROM : YEAR_FROM);
  const year = width >= YEAR_FROM;
  const narrow = width < YEAR_FROM;
  const template = [
    narrow ? '48px' : '56px',
    'minmax(0, 2.4fr)',
    options.album ? (narrow ? 'minmax(0, 1.4fr)' : 'minmax(0, 1.6fr)') : null,
    year ? '64px' : null,
    genre ? 'minmax(0, 1fr)' : null,
    narrow ? '88px' : '92px',
    narrow ? '56px' : '60px',
    '32px',
  ]
    .filter(Boolean)
    .join(' ');
  return { album: options.album, year, genre, template };
}
