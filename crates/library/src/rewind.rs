//! Rewind: looking back over the listening history, on the device. Every function takes
//! "now" as local ms (wall-clock time where the user is, counted like Unix ms), so the
//! views are about the user's days and hours, and tests choose their own today.
//!
//! First listens, anniversaries, forgotten favourites and page figures read
//! `listen_stats` (kept as listens are stored); on-this-day reads one day's plays
//! through `plays(local_at)`, one range per earlier year; a wrap-up reads its period's
//! plays once, in order.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use offbeat_model::{
    normalize_for_identity, Anniversary, DayInYear, FirstListens, GenreListens, ListenFigures,
    ListenKind, Listened, NewCounts, PeriodTotals, WrapUp,
};
use rusqlite::{params, OptionalExtension, Row};

use crate::{Library, LibraryError, Result};

pub const DAY_MS: i64 = 86_400_000;
/// Not heard for this long: a favourite is forgotten.
pub const FORGOTTEN_AFTER_DAYS: i64 = 182;
/// A forgotten favourite was heard at least this often.
pub const FAVOURITE_LISTENS: u32 = 5;

const STATS_SELECT: &str = "SELECT s.kind, s.title, s.artist, s.album,
        (SELECT t.id FROM tracks t WHERE t.uid = s.track_uid ORDER BY t.id LIMIT 1),
        s.first_at, s.last_at, s.listens, s.ms
     FROM listen_stats s";

fn kind_of(n: i64) -> ListenKind {
    match n {
        1 => ListenKind::Artist,
        2 => ListenKind::Album,
        _ => ListenKind::Track,
    }
}

fn kind_number(kind: ListenKind) -> i64 {
    match kind {
        ListenKind::Track => 0,
        ListenKind::Artist => 1,
        ListenKind::Album => 2,
    }
}

fn minutes(ms: i64) -> u32 {
    (ms.max(0) / 60_000).min(i64::from(u32::MAX)) as u32
}

fn listened_from_row(r: &Row<'_>) -> rusqlite::Result<Listened> {
    Ok(Listened {
        kind: kind_of(r.get(0)?),
        title: r.get(1)?,
        artist: r.get(2)?,
        album: r.get(3)?,
        track_id: r.get(4)?,
        first_at: r.get(5)?,
        last_at: r.get(6)?,
        listens: r.get(7)?,
        minutes: minutes(r.get(8)?),
    })
}

/// The start of the local day `local_ms` falls in.
pub fn day_start(local_ms: i64) -> i64 {
    local_ms.div_euclid(DAY_MS) * DAY_MS
}

/// Month * 100 + day of a local-ms time.
fn month_day(local_ms: i64) -> i64 {
    let d = date_of(local_ms);
    i64::from(d.month() * 100 + d.day())
}

fn date_of(local_ms: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(local_ms)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

fn ms_of(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0)
}

/// The local-ms bounds of a year, or of one of its months.
pub fn period_bounds(year: i32, month: Option<u32>) -> Option<(i64, i64)> {
    let (start, end) = match month {
        None => (
            NaiveDate::from_ymd_opt(year, 1, 1)?,
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?,
        ),
        Some(m) => {
            let start = NaiveDate::from_ymd_opt(year, m, 1)?;
            let end = if m == 12 {
                NaiveDate::from_ymd_opt(year + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(year, m + 1, 1)?
            };
            (start, end)
        }
    };
    Some((ms_of(start), ms_of(end)))
}

/// The key an artist's figures are kept under.
pub fn artist_key(name: &str) -> String {
    normalize_for_identity(name)
}

/// The key an album's figures are kept under.
pub fn album_key(album_artist: &str, title: &str) -> String {
    format!(
        "{}\u{1f}{}",
        normalize_for_identity(album_artist),
        normalize_for_identity(title)
    )
}

impl Library {
    /// Runs `f` and stops any query of it still running at `deadline` (it then fails with
    /// [`LibraryError::TimedOut`]); the connection is left as it was.
    pub fn with_deadline<T>(
        &self,
        deadline: Instant,
        f: impl FnOnce(&Library) -> Result<T>,
    ) -> Result<T> {
        self.conn
            .progress_handler(2_000, Some(move || Instant::now() >= deadline));
        self.deadline.set(Some(deadline));
        let result = f(self);
        self.deadline.set(None);
        self.conn.progress_handler(0, None::<fn() -> bool>);
        match result {
            Err(LibraryError::Database(rusqlite::Error::SqliteFailure(e, _)))
                if e.code == rusqlite::ErrorCode::OperationInterrupted =>
            {
                Err(LibraryError::TimedOut)
            }
            other => other,
        }
    }

    /// When each track, artist and album was first heard (the latest firsts, `limit` of
    /// each), and how many were new this week and this month.
    pub fn first_listens(&self, now_local: i64, limit: u32) -> Result<FirstListens> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{STATS_SELECT} WHERE s.kind = ?1 ORDER BY s.first_at DESC LIMIT ?2"
        ))?;
        let mut of_kind = |kind: ListenKind| -> Result<Vec<Listened>> {
            let rows = stmt.query_map(params![kind_number(kind), limit], listened_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        let artists = of_kind(ListenKind::Artist)?;
        let albums = of_kind(ListenKind::Album)?;
        let tracks = of_kind(ListenKind::Track)?;
        let this_week = self.new_since(day_start(now_local) - 6 * DAY_MS, i64::MAX)?;
        let this_month = self.new_since(day_start(now_local) - 29 * DAY_MS, i64::MAX)?;
        Ok(FirstListens {
            artists,
            albums,
            tracks,
            this_week,
            this_month,
        })
    }

    /// How many tracks, artists and albums were first heard in `[from, to)`.
    fn new_since(&self, from: i64, to: i64) -> Result<NewCounts> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT count(*) FROM listen_stats WHERE kind = ?1 AND first_at >= ?2 AND first_at < ?3",
        )?;
        let mut count = |kind: i64| -> Result<u32> {
            Ok(stmt.query_row(params![kind, from, to], |r| r.get(0))?)
        };
        Ok(NewCounts {
            tracks: count(0)?,
            artists: count(1)?,
            albums: count(2)?,
        })
    }

    /// What was played on today's date in each earlier year, newest year first; each
    /// year's tracks in the order first played that day (at most `limit` a year).
    pub fn on_this_day(&self, now_local: i64, limit: usize) -> Result<Vec<DayInYear>> {
        let today = date_of(now_local);
        let earliest: Option<i64> =
            self.conn
                .query_row("SELECT min(local_at) FROM plays", [], |r| r.get(0))?;
        let Some(earliest) = earliest else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.local_at, p.ms_played, p.track_key, p.title, p.artist, p.album,
                    (SELECT t.id FROM tracks t WHERE t.uid = p.track_uid ORDER BY t.id LIMIT 1)
             FROM plays p
             WHERE p.local_at >= ?1 AND p.local_at < ?2 AND p.listen AND p.track_key IS NOT NULL
             ORDER BY p.local_at",
        )?;
        let mut out = Vec::new();
        for year in (date_of(earliest).year()..today.year()).rev() {
            // 29 February comes round only in leap years.
            let Some(day) = NaiveDate::from_ymd_opt(year, today.month(), today.day()) else {
                continue;
            };
            let from = ms_of(day);
            let mut rows = stmt.query(params![from, from + DAY_MS])?;
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut day = DayInYear {
                year,
                listens: 0,
                minutes: 0,
                tracks: Vec::new(),
            };
            let mut ms_total = 0i64;
            while let Some(r) = rows.next()? {
                let at: i64 = r.get(0)?;
                let ms: i64 = r.get(1)?;
                day.listens += 1;
                ms_total += ms;
                let key: String = r.get(2)?;
                if let Some(&i) = seen.get(&key) {
                    if let Some(t) = day.tracks.get_mut(i) {
                        t.listens += 1;
                        t.last_at = at;
                        t.minutes = t.minutes.saturating_add(minutes(ms));
                    }
                } else if day.tracks.len() < limit {
                    seen.insert(key, day.tracks.len());
                    day.tracks.push(Listened {
                        kind: ListenKind::Track,
                        title: r.get(3)?,
                        artist: r.get(4)?,
                        album: r.get(5)?,
                        track_id: r.get(6)?,
                        first_at: at,
                        last_at: at,
                        listens: 1,
                        minutes: minutes(ms),
                    });
                }
            }
            if day.listens > 0 {
                day.minutes = minutes(ms_total);
                out.push(day);
            }
        }
        Ok(out)
    }

    /// Artists and albums first heard on today's date in an earlier year and heard again
    /// in the last year: the longest-loved first.
    pub fn anniversaries(&self, now_local: i64, limit: u32) -> Result<Vec<Anniversary>> {
        let today = day_start(now_local);
        let mut stmt = self.conn.prepare_cached(&format!(
            "{STATS_SELECT}
             WHERE s.kind IN (1, 2) AND s.last_at >= ?1 AND s.first_at < ?2
               AND CAST(strftime('%m%d', s.first_at / 1000, 'unixepoch') AS INTEGER) = ?3
             ORDER BY s.first_at, s.listens DESC LIMIT ?4"
        ))?;
        let this_year = date_of(now_local).year();
        let rows = stmt.query_map(
            params![today - 365 * DAY_MS, today, month_day(now_local), limit],
            listened_from_row,
        )?;
        let mut out = Vec::new();
        for item in rows {
            let item = item?;
            let years = (this_year - date_of(item.first_at).year()).max(0) as u32;
            if years > 0 {
                out.push(Anniversary { years, item });
            }
        }
        Ok(out)
    }

    /// Tracks heard often ([`FAVOURITE_LISTENS`] or more) but not in the last
    /// [`FORGOTTEN_AFTER_DAYS`] days, most heard first.
    pub fn forgotten_favourites(&self, now_local: i64, limit: u32) -> Result<Vec<Listened>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{STATS_SELECT} WHERE s.kind = 0 AND s.last_at < ?1 AND s.listens >= ?2
             ORDER BY s.listens DESC, s.last_at DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(
            params![
                day_start(now_local) - FORGOTTEN_AFTER_DAYS * DAY_MS,
                FAVOURITE_LISTENS,
                limit
            ],
            listened_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The library tracks heard most in the last year, most first: what Emergency
    /// Essentials should hold.
    pub fn most_loved(&self, now_local: i64, limit: u32) -> Result<Vec<Listened>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "WITH loved AS (
                 SELECT p.track_key AS key, count(*) AS n FROM plays p
                 WHERE p.local_at >= ?1 AND p.listen AND p.track_uid IS NOT NULL
                 GROUP BY p.track_key)
             {STATS_SELECT} JOIN loved ON s.kind = 0 AND s.key = loved.key
             WHERE EXISTS (SELECT 1 FROM tracks t WHERE t.uid = s.track_uid)
             ORDER BY loved.n DESC, s.last_at DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(
            params![day_start(now_local) - 365 * DAY_MS, limit],
            listened_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The years with listens, newest first.
    pub fn listening_years(&self) -> Result<Vec<i32>> {
        let (first, last): (Option<i64>, Option<i64>) = self.conn.query_row(
            "SELECT min(local_at), max(local_at) FROM plays WHERE listen",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(match (first, last) {
            (Some(first), Some(last)) => (date_of(first).year()..=date_of(last).year())
                .rev()
                .collect(),
            _ => Vec::new(),
        })
    }

    /// First and last listen and how many, for a track (by uid).
    pub fn track_figures(&self, uid: &str) -> Result<ListenFigures> {
        self.figures(0, uid)
    }

    /// The same for an artist, by name.
    pub fn artist_figures(&self, name: &str) -> Result<ListenFigures> {
        self.figures(1, &artist_key(name))
    }

    /// The same for an album, by its album artist and title.
    pub fn album_figures(&self, album_artist: &str, title: &str) -> Result<ListenFigures> {
        self.figures(2, &album_key(album_artist, title))
    }

    fn figures(&self, kind: i64, key: &str) -> Result<ListenFigures> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT first_at, last_at, listens FROM listen_stats WHERE kind = ?1 AND key = ?2",
            )?
            .query_row(params![kind, key], |r| {
                Ok(ListenFigures {
                    first_at: r.get(0)?,
                    last_at: r.get(1)?,
                    listens: r.get(2)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    /// A year's or a month's listening summed up, with the period before for comparison.
    pub fn wrap_up(&self, year: i32, month: Option<u32>, top: usize) -> Result<WrapUp> {
        let Some((from, to)) = period_bounds(year, month) else {
            return Err(LibraryError::BadPeriod { year, month });
        };
        let previous = match month {
            None | Some(1) => period_bounds(year - 1, month.map(|_| 12)),
            Some(m) => period_bounds(year, Some(m - 1)),
        };
        let parts = match month {
            None => 12,
            Some(_) => ((to - from) / DAY_MS) as usize,
        };
        // The period before only gives totals to compare with. On disk it is read on a
        // second connection beside this period (two passes at once on two cores); in
        // memory there is no second connection, and it is read first.
        let previous_totals = |library: &Library, (pf, pt): (i64, i64)| -> Result<PeriodTotals> {
            let mut prev = Pass::new(0, pf, true, false);
            library.read_period(pf, pt, |row| prev.add(row))?;
            Ok(prev.totals())
        };
        let mut pass = Pass::new(parts, from, month.is_none(), true);
        let previous = match (previous, self.path()) {
            (None, _) => PeriodTotals::default(),
            (Some(bounds), None) => {
                let previous = previous_totals(self, bounds)?;
                self.read_period(from, to, |row| pass.add(row))?;
                previous
            }
            (Some(bounds), Some(path)) => {
                let deadline = self.deadline.get();
                let (previous, current) = std::thread::scope(|scope| {
                    let other = scope.spawn(move || {
                        let library = Library::open(path)?;
                        match deadline {
                            Some(d) => library.with_deadline(d, |l| previous_totals(l, bounds)),
                            None => previous_totals(&library, bounds),
                        }
                    });
                    let current = self.read_period(from, to, |row| pass.add(row));
                    (other.join(), current)
                });
                current?;
                match previous {
                    Ok(previous) => previous?,
                    Err(panicked) => std::panic::resume_unwind(panicked),
                }
            }
        };
        let discoveries = self.new_since(from, to)?;
        let mut top_discoveries = self.conn.prepare_cached(&format!(
            "{STATS_SELECT} WHERE s.kind = 1 AND s.first_at >= ?1 AND s.first_at < ?2
             ORDER BY s.listens DESC LIMIT ?3"
        ))?;
        let top_discoveries = top_discoveries
            .query_map(params![from, to, top as i64], listened_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        let totals = pass.totals();
        let (streak, streak_start) = pass.longest_streak();
        Ok(WrapUp {
            year,
            month,
            totals,
            previous,
            top_tracks: self.named(ListenKind::Track, pass.top(0, top))?,
            top_artists: self.named(ListenKind::Artist, pass.top(1, top))?,
            top_albums: self.named(ListenKind::Album, pass.top(2, top))?,
            top_genres: pass.top_genres(top),
            clock: pass.clock,
            minutes_by_part: pass.by_part.iter().map(|&ms| minutes(ms)).collect(),
            longest_streak_days: streak,
            streak_start,
            discoveries,
            top_discoveries,
        })
    }

    /// Reads the listens of `[from, to)` in time order.
    fn read_period(&self, from: i64, to: i64, mut f: impl FnMut(&Row<'_>)) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT local_at, ms_played, track_key, artist_key, album_key, genre
             FROM plays WHERE local_at >= ?1 AND local_at < ?2 AND listen
             ORDER BY local_at",
        )?;
        let mut rows = stmt.query(params![from, to])?;
        while let Some(r) = rows.next()? {
            f(r);
        }
        Ok(())
    }

    /// Names for the period's top keys (from `listen_stats`), with the period's figures.
    fn named(&self, kind: ListenKind, top: Vec<(String, Tally)>) -> Result<Vec<Listened>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{STATS_SELECT} WHERE s.kind = ?1 AND s.key = ?2"))?;
        let mut out = Vec::with_capacity(top.len());
        for (key, tally) in top {
            let found = stmt
                .query_row(params![kind_number(kind), key], listened_from_row)
                .optional()?;
            if let Some(mut item) = found {
                item.listens = tally.listens;
                item.minutes = minutes(tally.ms);
                out.push(item);
            }
        }
        Ok(out)
    }
}

/// A quick hash for string keys (FxHash's multiply-rotate): SipHash's resistance to chosen
/// keys buys nothing over one's own history, and costs a third of a wrap-up.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut add = |word: u64| {
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        };
        // A copy of a fixed eight bytes is one load; one of a length known only at run
        // time is a call to memcpy, which hashing a word at a time paid for every word.
        // Only the last, short word is copied that way.
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut whole = [0u8; 8];
            whole.copy_from_slice(word);
            add(u64::from_le_bytes(whole));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            add(u64::from_le_bytes(word));
        }
    }

    fn finish(&self) -> u64 {
        // The multiply leaves the low bits (the table's bucket index) weak: fold the high
        // ones down (MurmurHash3's finaliser).
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

/// A map by history keys (names, ids), hashed with [`KeyHasher`].
pub(crate) type Keyed<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// A pass's key, kept in the map's own slot when short (most are: uids, folded names), so
/// a lookup reads one place in memory, not the slot and then the key's allocation: the
/// tallies' lookups, at random over tens of thousands of keys, were most of a wrap-up.
#[derive(Debug, Clone)]
enum PassKey {
    Short { len: u8, bytes: [u8; SHORT_KEY] },
    Long(Box<[u8]>),
}

/// Keys up to this many bytes are kept in the slot: a library track's uid ("h:" and 32
/// hex digits) and most folded names fit, and a slot with its tally is a cache line.
const SHORT_KEY: usize = 46;

impl PassKey {
    fn new(key: &[u8]) -> PassKey {
        let mut bytes = [0u8; SHORT_KEY];
        match bytes.get_mut(..key.len()) {
            Some(short) => {
                short.copy_from_slice(key);
                PassKey::Short {
                    len: key.len() as u8,
                    bytes,
                }
            }
            None => PassKey::Long(key.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            PassKey::Short { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            PassKey::Long(bytes) => bytes,
        }
    }
}

// As its bytes, so the map can be asked with a borrowed key.
impl std::borrow::Borrow<[u8]> for PassKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::hash::Hash for PassKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for PassKey {
    fn eq(&self, other: &PassKey) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for PassKey {}

fn tally(map: &mut Keyed<PassKey, Tally>, key: &[u8], ms: i64) {
    match map.get_mut(key) {
        Some(t) => {
            t.listens += 1;
            t.ms += ms;
        }
        None => {
            map.insert(PassKey::new(key), Tally { listens: 1, ms });
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    listens: u32,
    ms: i64,
}

/// One pass over a period's listens, tallying everything the wrap-up shows.
struct Pass {
    /// Everything the wrap-up shows; `false`: only the totals (the period before).
    full: bool,
    from: i64,
    by_year: bool,
    listens: u32,
    ms: i64,
    keys: [Keyed<PassKey, Tally>; 3],
    genres: Keyed<PassKey, Tally>,
    clock: Vec<u32>,
    by_part: Vec<i64>,
    days: Vec<i64>,
    /// The part (month or day) of the last day seen: rows come in time order.
    part: usize,
}

impl Pass {
    fn new(parts: usize, from: i64, by_year: bool, full: bool) -> Pass {
        Pass {
            full,
            from,
            by_year,
            listens: 0,
            ms: 0,
            keys: Default::default(),
            genres: Keyed::default(),
            clock: vec![0; 7 * 24],
            by_part: vec![0; parts],
            days: Vec::new(),
            part: 0,
        }
    }

    fn add(&mut self, r: &Row<'_>) {
        let at: i64 = r.get(0).unwrap_or_default();
        let ms: i64 = r.get(1).unwrap_or_default();
        self.listens += 1;
        self.ms += ms;
        // Keys as bytes: no UTF-8 check per row (they were text going in).
        let bytes = |col: usize| {
            r.get_ref(col)
                .ok()
                .and_then(|v| v.as_bytes_or_null().ok().flatten())
        };
        let kinds = if self.full { 3 } else { 2 };
        for i in 0..kinds {
            if let Some(key) = bytes(2 + i) {
                tally(&mut self.keys[i], key, ms);
            }
        }
        if !self.full {
            return;
        }
        if let Some(genre) = bytes(5).filter(|g| !g.is_empty()) {
            tally(&mut self.genres, genre, ms);
        }
        let day = at.div_euclid(DAY_MS);
        // 1970-01-01 was a Thursday: Monday is 0.
        let weekday = (day + 3).rem_euclid(7) as usize;
        let hour = (at.rem_euclid(DAY_MS) / 3_600_000) as usize;
        if let Some(c) = self.clock.get_mut(weekday * 24 + hour) {
            *c += 1;
        }
        if self.days.last() != Some(&day) {
            self.days.push(day);
            self.part = if self.by_year {
                date_of(at).month0() as usize
            } else {
                ((at - self.from) / DAY_MS) as usize
            };
        }
        if let Some(p) = self.by_part.get_mut(self.part) {
            *p += ms;
        }
    }

    fn totals(&self) -> PeriodTotals {
        PeriodTotals {
            minutes: minutes(self.ms),
            listens: self.listens,
            tracks: self.keys[0].len() as u32,
            artists: self.keys[1].len() as u32,
        }
    }

    fn top(&self, i: usize, n: usize) -> Vec<(String, Tally)> {
        let mut all: Vec<(&[u8], &Tally)> = self.keys[i]
            .iter()
            .map(|(k, t)| (k.as_bytes(), t))
            .collect();
        let n = n.min(all.len());
        if n == 0 {
            return Vec::new();
        }
        let order = |a: &(&[u8], &Tally), b: &(&[u8], &Tally)| {
            b.1.listens
                .cmp(&a.1.listens)
                .then(b.1.ms.cmp(&a.1.ms))
                .then(a.0.cmp(b.0))
        };
        all.select_nth_unstable_by(n - 1, order);
        all.truncate(n);
        all.sort_by(order);
        all.into_iter()
            .map(|(k, t)| (String::from_utf8_lossy(k).into_owned(), *t))
            .collect()
    }

    fn top_genres(&self, n: usize) -> Vec<GenreListens> {
        let mut all: Vec<GenreListens> = self
            .genres
            .iter()
            .map(|(g, t)| GenreListens {
                genre: String::from_utf8_lossy(g.as_bytes()).into_owned(),
                listens: t.listens,
                minutes: minutes(t.ms),
            })
            .collect();
        all.sort_by(|a, b| b.listens.cmp(&a.listens).then(a.genre.cmp(&b.genre)));
        all.truncate(n);
        all
    }

    /// The most days in a row with a listen, and the first of them (local ms).
    fn longest_streak(&self) -> (u32, Option<i64>) {
        let mut best = (0u32, None);
        let mut run = 0u32;
        let mut start = 0i64;
        let mut prev: Option<i64> = None;
        for &day in &self.days {
            if prev == Some(day - 1) {
                run += 1;
            } else {
                run = 1;
                start = day;
            }
            if run > best.0 {
                best = (run, Some(start * DAY_MS));
            }
            prev = Some(day);
        }
        best
    }
}
