//! The play queue: what plays, in which order, and what comes next. Pure logic, no audio.
//!
//! Entries keep the order they were added in (`entries`); the play order (`order`) is
//! either that order or, while shuffle is on, a permutation of it. Shuffle plays every
//! entry once before any repeats, and turning it off goes back to the added order at the
//! entry that is playing.

use std::path::PathBuf;

/// ReplayGain values as tagged on a track: gains in dB, peaks as linear amplitude.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReplayGainTags {
    pub track_gain_db: Option<f32>,
    pub track_peak: Option<f32>,
    pub album_gain_db: Option<f32>,
    pub album_peak: Option<f32>,
}

/// A track to queue: an opaque id the caller knows it by (a library track id), the file,
/// and its ReplayGain tags.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueTrack {
    pub track_id: i64,
    pub path: PathBuf,
    pub replay_gain: ReplayGainTags,
}

/// One place in the queue. The same track may be queued twice; each entry has its own id.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    pub entry_id: u64,
    pub track: QueueTrack,
}

/// What happens at the end of a track.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Repeat {
    /// Stop after the last entry.
    #[default]
    Off,
    /// Play the current entry again (a skip still moves on).
    One,
    /// Go back to the first entry after the last.
    All,
}

/// What [`Queue::remove`] did to the current entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// It is still there.
    NotCurrent,
    /// It was removed; the entry after it is current now and should play.
    CurrentNowNext,
    /// It was removed and nothing came after it (repeat off or one): the last entry left
    /// (if any) is current, and playback should stop. Under repeat all the first entry
    /// comes after the last ([`Removed::CurrentNowNext`]).
    CurrentWasLast,
}

/// How far into a track "previous" restarts it instead of going back.
pub const PREVIOUS_RESTARTS_AFTER_MS: u64 = 3_000;

/// The queue. See the module documentation.
#[derive(Debug, Clone)]
pub struct Queue {
    entries: Vec<QueueEntry>,
    /// Indexes into `entries`, in play order.
    order: Vec<usize>,
    /// Position in `order` of the current entry.
    current: Option<usize>,
    shuffle: bool,
    repeat: Repeat,
    next_entry_id: u64,
    rng: Rng,
}

impl Default for Queue {
    fn default() -> Queue {
        Queue::with_seed(seed_from_clock())
    }
}

impl Queue {
    /// An empty queue whose shuffles come from `seed` (tests fix it).
    pub fn with_seed(seed: u64) -> Queue {
        Queue {
            entries: Vec::new(),
            order: Vec::new(),
            current: None,
            shuffle: false,
            repeat: Repeat::Off,
            next_entry_id: 1,
            rng: Rng::new(seed),
        }
    }

    /// Every entry in play order.
    pub fn entries_in_order(&self) -> Vec<&QueueEntry> {
        self.order.iter().map(|&i| &self.entries[i]).collect()
    }

    /// The position of the current entry in play order.
    pub fn current_index(&self) -> Option<usize> {
        self.current
    }

    pub fn current(&self) -> Option<&QueueEntry> {
        self.current.map(|p| &self.entries[self.order[p]])
    }

    pub fn shuffle(&self) -> bool {
        self.shuffle
    }

    pub fn repeat(&self) -> Repeat {
        self.repeat
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries the queue holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn make_entries(&mut self, tracks: Vec<QueueTrack>) -> Vec<QueueEntry> {
        tracks
            .into_iter()
            .map(|track| {
                let entry_id = self.next_entry_id;
                self.next_entry_id += 1;
                QueueEntry { entry_id, track }
            })
            .collect()
    }

    /// Replaces the queue with `tracks`, `start` being the one to play. With shuffle on,
    /// `start` plays first and the rest follow shuffled.
    pub fn set(&mut self, tracks: Vec<QueueTrack>, start: usize) -> Option<&QueueEntry> {
        self.entries = self.make_entries(tracks);
        self.order = (0..self.entries.len()).collect();
        self.current = (!self.entries.is_empty()).then(|| start.min(self.entries.len() - 1));
        if self.shuffle {
            self.reshuffle();
        }
        self.current()
    }

    /// Restores a saved queue: `tracks` in the play order they were saved in, `start`
    /// current, and the shuffle flag as it was, without shuffling again. `unshuffled`
    /// gives the order they were added in (what turning shuffle off brings back), as
    /// positions in `tracks` (see [`Queue::unshuffled`]); if it is not one position for
    /// each track, the play order stands for it.
    pub fn restore(
        &mut self,
        tracks: Vec<QueueTrack>,
        start: usize,
        shuffle: bool,
        unshuffled: &[usize],
    ) {
        self.shuffle = false;
        let n = tracks.len();
        let mut seen = vec![false; n];
        let complete = unshuffled.len() == n
            && unshuffled
                .iter()
                .all(|&p| p < n && !std::mem::replace(&mut seen[p], true));
        if !(shuffle && complete) {
            self.set(tracks, start);
            self.shuffle = shuffle;
            return;
        }
        // The entries in added order; the play order points into them.
        let mut slots: Vec<Option<QueueTrack>> = tracks.into_iter().map(Some).collect();
        let added = unshuffled
            .iter()
            .filter_map(|&p| slots.get_mut(p).and_then(Option::take))
            .collect();
        self.entries = self.make_entries(added);
        let mut order = vec![0; n];
        for (added_at, &played_at) in unshuffled.iter().enumerate() {
            order[played_at] = added_at;
        }
        self.order = order;
        self.current = (n > 0).then(|| start.min(n - 1));
        self.shuffle = true;
    }

    /// The entries' positions in play order, in the order they were added: what
    /// [`Queue::restore`] takes to bring back the order that turning shuffle off restores.
    pub fn unshuffled(&self) -> Vec<usize> {
        let mut positions = vec![0; self.order.len()];
        for (played_at, &added_at) in self.order.iter().enumerate() {
            positions[added_at] = played_at;
        }
        positions
    }

    /// Queues `tracks` right after the current entry (in added and in play order).
    pub fn play_next(&mut self, tracks: Vec<QueueTrack>) {
        let added = self.make_entries(tracks);
        let n = added.len();
        let at_entry = self
            .current
            .map_or(self.entries.len(), |p| self.order[p] + 1);
        self.entries.splice(at_entry..at_entry, added);
        for i in &mut self.order {
            if *i >= at_entry {
                *i += n;
            }
        }
        let at_order = self.current.map_or(self.order.len(), |p| p + 1);
        self.order
            .splice(at_order..at_order, at_entry..at_entry + n);
    }

    /// Queues `tracks` at the end.
    pub fn append(&mut self, tracks: Vec<QueueTrack>) {
        let added = self.make_entries(tracks);
        let from = self.entries.len();
        self.entries.extend(added);
        self.order.extend(from..self.entries.len());
    }

    /// Removes entries, and says what became of the current one.
    pub fn remove(&mut self, entry_ids: &[u64]) -> Removed {
        let current_entry = self.current.map(|p| self.order[p]);
        let removed_current =
            current_entry.is_some_and(|i| entry_ids.contains(&self.entries[i].entry_id));
        // Where the current entry was in play order: what follows it takes its place.
        let current_pos = self.current;
        let keep: Vec<bool> = self
            .entries
            .iter()
            .map(|e| !entry_ids.contains(&e.entry_id))
            .collect();
        let mut new_index = vec![usize::MAX; self.entries.len()];
        let mut next = 0;
        for (i, &k) in keep.iter().enumerate() {
            if k {
                new_index[i] = next;
                next += 1;
            }
        }
        let mut new_current = None;
        let mut new_order = Vec::with_capacity(next);
        for (pos, &i) in self.order.iter().enumerate() {
            if keep[i] {
                if Some(pos) == current_pos {
                    new_current = Some(new_order.len());
                }
                if removed_current && new_current.is_none() && current_pos.is_some_and(|c| pos > c)
                {
                    new_current = Some(new_order.len());
                }
                new_order.push(new_index[i]);
            }
        }
        let mut i = 0;
        self.entries.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        self.order = new_order;
        self.current = new_current.filter(|&p| p < self.order.len());
        if !removed_current {
            return Removed::NotCurrent;
        }
        if self.current.is_none() && self.repeat == Repeat::All && !self.order.is_empty() {
            // The last entry was playing: under repeat all the first comes after it.
            self.current = Some(0);
        }
        if self.current.is_some() {
            return Removed::CurrentNowNext;
        }
        // The current entry was the last: the last one left becomes current (so play
        // starts it again), and nothing plays.
        self.current = self.order.len().checked_sub(1);
        Removed::CurrentWasLast
    }

    /// Moves an entry to position `to` in play order (what the queue panel shows).
    pub fn move_entry(&mut self, entry_id: u64, to: usize) -> bool {
        let Some(from) = self
            .order
            .iter()
            .position(|&i| self.entries[i].entry_id == entry_id)
        else {
            return false;
        };
        let to = to.min(self.order.len() - 1);
        let moved = self.order.remove(from);
        self.order.insert(to, moved);
        if let Some(c) = self.current {
            self.current = Some(if c == from {
                to
            } else if from < c && to >= c {
                c - 1
            } else if from > c && to <= c {
                c + 1
            } else {
                c
            });
        }
        if !self.shuffle {
            // Without shuffle the added order is the play order: keep them the same.
            let entries: Vec<QueueEntry> = self
                .order
                .iter()
                .map(|&i| self.entries[i].clone())
                .collect();
            self.entries = entries;
            self.order = (0..self.entries.len()).collect();
        }
        true
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.current = None;
    }

    /// Makes the entry with this id current.
    pub fn jump(&mut self, entry_id: u64) -> Option<&QueueEntry> {
        let pos = self
            .order
            .iter()
            .position(|&i| self.entries[i].entry_id == entry_id)?;
        self.current = Some(pos);
        self.current()
    }

    /// The entry that plays when the current one ends by itself (repeat one repeats it).
    pub fn peek_after_end(&self) -> Option<&QueueEntry> {
        let pos = self.current?;
        if self.repeat == Repeat::One {
            return self.current();
        }
        self.position_after(pos)
            .map(|p| &self.entries[self.order[p]])
    }

    /// Moves on as at the end of a track; returns the new current entry, or `None` when
    /// the queue has played out (the current entry stays, so "play" starts it again).
    pub fn advance_after_end(&mut self) -> Option<&QueueEntry> {
        let pos = self.current?;
        if self.repeat == Repeat::One {
            return self.current();
        }
        self.step_from(pos)
    }

    /// "Next": moves on even under repeat one. `None` at the end of the queue (repeat off).
    pub fn skip_forward(&mut self) -> Option<&QueueEntry> {
        let pos = self.current?;
        self.step_from(pos)
    }

    /// "Previous" at `position_ms` into the current track: `None` means restart the
    /// current track (past the first 3 s, or at the start of the queue); otherwise the
    /// previous entry becomes current.
    pub fn previous(&mut self, position_ms: u64) -> Option<&QueueEntry> {
        let pos = self.current?;
        if position_ms > PREVIOUS_RESTARTS_AFTER_MS {
            return None;
        }
        let before = match (pos, self.repeat) {
            (0, Repeat::All) => self.order.len() - 1,
            (0, _) => return None,
            (p, _) => p - 1,
        };
        self.current = Some(before);
        self.current()
    }

    /// Turns shuffle on (the current entry stays, the rest are shuffled after it) or off
    /// (back to the added order, at the current entry).
    pub fn set_shuffle(&mut self, on: bool) {
        if on == self.shuffle {
            return;
        }
        self.shuffle = on;
        if on {
            self.reshuffle();
        } else {
            let current_entry = self.current.map(|p| self.order[p]);
            self.order = (0..self.entries.len()).collect();
            self.current = current_entry;
        }
    }

    pub fn set_repeat(&mut self, repeat: Repeat) {
        self.repeat = repeat;
    }

    fn position_after(&self, pos: usize) -> Option<usize> {
        if pos + 1 < self.order.len() {
            Some(pos + 1)
        } else if self.repeat == Repeat::All && !self.order.is_empty() {
            Some(0)
        } else {
            None
        }
    }

    fn step_from(&mut self, pos: usize) -> Option<&QueueEntry> {
        if pos + 1 < self.order.len() {
            self.current = Some(pos + 1);
            return self.current();
        }
        if self.repeat != Repeat::All || self.order.is_empty() {
            return None;
        }
        if self.shuffle && self.order.len() > 2 {
            // A new round in a new order. It starts with the entry `peek_after_end` named
            // (the first of the last round, never the one just played), so what was
            // decoded ahead is what plays; the rest are shuffled again.
            self.rng.shuffle(&mut self.order[1..]);
        }
        self.current = Some(0);
        self.current()
    }

    /// Shuffles the play order: the current entry first, the others after it.
    fn reshuffle(&mut self) {
        let current_entry = self.current.map(|p| self.order[p]);
        let mut rest: Vec<usize> = (0..self.entries.len())
            .filter(|&i| Some(i) != current_entry)
            .collect();
        self.rng.shuffle(&mut rest);
        self.order = current_entry.into_iter().chain(rest).collect();
        self.current = current_entry.map(|_| 0);
    }
}

fn seed_from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64)
}

/// xorshift64*: plenty for shuffling a play queue, and no dependency.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Fisher-Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracks(n: i64) -> Vec<QueueTrack> {
        (1..=n)
            .map(|i| QueueTrack {
                track_id: i,
                path: PathBuf::from(format!("/m/{i}.flac")),
                replay_gain: ReplayGainTags::default(),
            })
            .collect()
    }

    fn ids(q: &Queue) -> Vec<i64> {
        q.entries_in_order()
            .iter()
            .map(|e| e.track.track_id)
            .collect()
    }

    fn current(q: &Queue) -> Option<i64> {
        q.current().map(|e| e.track.track_id)
    }

    #[test]
    fn plays_in_order_and_stops_at_the_end() {
        let mut q = Queue::with_seed(1);
        q.set(tracks(3), 1);
        assert_eq!(current(&q), Some(2));
        assert_eq!(q.peek_after_end().map(|e| e.track.track_id), Some(3));
        assert_eq!(q.advance_after_end().map(|e| e.track.track_id), Some(3));
        assert_eq!(q.advance_after_end(), None);
        assert_eq!(current(&q), Some(3), "the last entry stays current");
    }

    #[test]
    fn repeat_one_repeats_until_skipped_and_repeat_all_wraps() {
        let mut q = Queue::with_seed(1);
        q.set(tracks(2), 0);
        q.set_repeat(Repeat::One);
        assert_eq!(q.advance_after_end().map(|e| e.track.track_id), Some(1));
        assert_eq!(q.skip_forward().map(|e| e.track.track_id), Some(2));
        assert_eq!(
            q.skip_forward(),
            None,
            "next at the end with repeat one off the end"
        );
        q.set_repeat(Repeat::All);
        assert_eq!(q.advance_after_end().map(|e| e.track.track_id), Some(1));
    }

    #[test]
    fn previous_restarts_after_three_seconds_else_goes_back() {
        let mut q = Queue::with_seed(1);
        q.set(tracks(3), 1);
        assert_eq!(q.previous(3_001), None);
        assert_eq!(current(&q), Some(2));
        assert_eq!(q.previous(2_999).map(|e| e.track.track_id), Some(1));
        assert_eq!(q.previous(0), None, "the first entry restarts");
        q.set_repeat(Repeat::All);
        assert_eq!(q.previous(0).map(|e| e.track.track_id), Some(3));
    }

    #[test]
    fn shuffle_plays_each_once_per_round_and_off_restores_the_order() {
        let mut q = Queue::with_seed(42);
        q.set(tracks(20), 4);
        q.set_shuffle(true);
        assert_eq!(current(&q), Some(5), "the playing entry stays");
        assert_ne!(ids(&q), (1..=20).collect::<Vec<_>>());
        let mut played = vec![current(&q).unwrap_or_default()];
        while let Some(e) = q.advance_after_end() {
            played.push(e.track.track_id);
        }
        played.sort();
        assert_eq!(played, (1..=20).collect::<Vec<_>>(), "every entry once");

        q.set_shuffle(false);
        assert_eq!(ids(&q), (1..=20).collect::<Vec<_>>());
        let last = current(&q);
        assert_eq!(q.current_index(), last.map(|t| t as usize - 1));

        // A new round under repeat all is a new order, not starting with the last played.
        q.set_shuffle(true);
        q.set_repeat(Repeat::All);
        let mut guard = 0;
        while q.current_index() != Some(19) && guard < 100 {
            q.advance_after_end();
            guard += 1;
        }
        let end = current(&q);
        let promised = q.peek_after_end().map(|e| e.track.track_id);
        let first_of_next_round = q.advance_after_end().map(|e| e.track.track_id);
        assert_ne!(first_of_next_round, end);
        assert_eq!(
            first_of_next_round, promised,
            "what was promised is what plays"
        );
    }

    #[test]
    fn play_next_append_remove_and_move() {
        let mut q = Queue::with_seed(1);
        q.set(tracks(3), 0);
        q.play_next(
            tracks(1)
                .into_iter()
                .map(|mut t| {
                    t.track_id = 10;
                    t
                })
                .collect(),
        );
        assert_eq!(ids(&q), [1, 10, 2, 3]);
        q.append(vec![QueueTrack {
            track_id: 20,
            path: "/m/20.flac".into(),
            replay_gain: ReplayGainTags::default(),
        }]);
        assert_eq!(ids(&q), [1, 10, 2, 3, 20]);

        let entry = |q: &Queue, track: i64| {
            q.entries_in_order()
                .iter()
                .find(|e| e.track.track_id == track)
                .map(|e| e.entry_id)
                .unwrap_or_default()
        };
        let e3 = entry(&q, 3);
        assert!(q.move_entry(e3, 0));
        assert_eq!(ids(&q), [3, 1, 10, 2, 20]);
        assert_eq!(
            current(&q),
            Some(1),
            "moving another entry keeps the current one"
        );

        let e1 = entry(&q, 1);
        assert_eq!(q.remove(&[e1]), Removed::CurrentNowNext);
        assert_eq!(ids(&q), [3, 10, 2, 20]);
        assert_eq!(current(&q), Some(10), "what followed it is current");

        q.clear();
        assert!(q.is_empty() && q.current().is_none());
    }

    #[test]
    fn the_same_track_queued_twice_is_two_entries() {
        let mut q = Queue::with_seed(1);
        q.set(tracks(1), 0);
        q.append(tracks(1));
        let e: Vec<u64> = q.entries_in_order().iter().map(|e| e.entry_id).collect();
        assert_eq!(e.len(), 2);
        assert_ne!(e[0], e[1]);
        assert_eq!(q.remove(&[e[0]]), Removed::CurrentNowNext);
        assert_eq!(q.current().map(|x| x.entry_id), Some(e[1]));
        // Removing the last, playing entry leaves the one before it current, stopped.
        q.append(tracks(2));
        let last = q
            .entries_in_order()
            .last()
            .map(|x| x.entry_id)
            .unwrap_or_default();
        q.jump(last);
        assert_eq!(q.remove(&[last]), Removed::CurrentWasLast);
        assert_eq!(q.current().map(|x| x.track.track_id), Some(1));
        // Under repeat all the first entry comes after the last: it plays.
        q.set_repeat(Repeat::All);
        let (first, last) = {
            let order = q.entries_in_order();
            let ids: Vec<u64> = order.iter().map(|x| x.entry_id).collect();
            (ids[0], ids[ids.len() - 1])
        };
        q.jump(last);
        assert_eq!(q.remove(&[last]), Removed::CurrentNowNext);
        assert_eq!(q.current().map(|x| x.entry_id), Some(first));
    }

    #[test]
    fn a_restored_shuffled_queue_unshuffles_to_the_order_it_was_added_in() {
        let mut q = Queue::with_seed(3);
        q.set(tracks(8), 0);
        q.set_shuffle(true);
        let played: Vec<QueueTrack> = q
            .entries_in_order()
            .into_iter()
            .map(|e| e.track.clone())
            .collect();
        assert_ne!(ids(&q), (1..=8).collect::<Vec<_>>(), "shuffled");
        let unshuffled = q.unshuffled();
        let current = q.current_index().unwrap_or_default();

        let mut restored = Queue::with_seed(9);
        restored.restore(played.clone(), current, true, &unshuffled);
        assert_eq!(ids(&restored), ids(&q), "the same play order");
        assert_eq!(restored.current_index(), Some(current));
        restored.set_shuffle(false);
        assert_eq!(ids(&restored), (1..=8).collect::<Vec<_>>());

        // Positions that are not one for each track: the play order stands for the added one.
        for bad in [
            vec![],
            vec![0, 0, 1, 2, 3, 4, 5, 6],
            vec![0, 1, 2, 3, 4, 5, 6, 8],
        ] {
            let mut restored = Queue::with_seed(9);
            restored.restore(played.clone(), current, true, &bad);
            restored.set_shuffle(false);
            assert_eq!(ids(&restored), ids(&q), "{bad:?}");
        }
    }
}
