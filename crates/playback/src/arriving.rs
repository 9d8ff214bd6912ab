//! Playing a file while it is still being written (a song streamed from a server into its
//! cache): `<path>.part` holds the bytes so far and `<path>.part.len` the whole length.
//! Reads past what has arrived wait for more; the file's final rename does not disturb an
//! open reader. If the writer gives up (it removes the length file, keeping the part to
//! resume later, or removes both), reading fails at once; if nothing arrives for a while,
//! it fails too. Either way the engine reports it and moves on.
//!
//! The engine never sits in a waiting read, so it keeps answering commands: it opens such
//! a file once its first [`AHEAD`] bytes have come (all of it, to start elsewhere; see
//! [`can_open`]), does not decode into the part's last [`AHEAD`] bytes until more arrive
//! (see [`Progress`]), and seeks in it only once all of it is there. A stalled download
//! (the connection open, nothing coming) ends the song after [`STALL`].
//!
//! The engine knows nothing of where the bytes come from: whoever writes them keeps to
//! this naming.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a read waits for bytes that do not come before it fails; the engine gives a
/// song that long too (see [`Progress`]).
pub(crate) const STALL: Duration = Duration::from_secs(20);

/// Bytes that must have arrived past the reader's position before the engine decodes on:
/// more than a packet and the format reader's read-ahead, so decoding does not wait.
const AHEAD: u64 = 256 * 1024;
/// How often a waiting read looks again.
const POLL: Duration = Duration::from_millis(10);

/// A file still arriving, read as if it were whole.
#[derive(Debug)]
pub(crate) struct Arriving {
    file: File,
    at: Progress,
}

/// How far an arriving file has come, seen from outside its reader: the engine decodes
/// only what has arrived, so it never waits inside a read and keeps answering commands.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    part: PathBuf,
    /// `<path>.part.len`: there while the download goes on.
    len_file: PathBuf,
    done: PathBuf,
    len: u64,
    /// The reader's position.
    pos: Arc<AtomicU64>,
}

/// Where the download of an arriving file stands, as its files show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Download {
    /// Bytes are still coming.
    Going,
    /// Finished: the part was renamed into place; what is missing will not come.
    Finished,
    /// Given up: the part gone, or kept (to resume another time) without its length file.
    Stopped,
}

impl Progress {
    fn pos(&self) -> u64 {
        self.pos.load(Ordering::Relaxed)
    }

    fn download(&self) -> Download {
        let part = self.part.exists();
        if self.done.exists() {
            if part {
                Download::Going
            } else {
                Download::Finished
            }
        } else if !part || !self.len_file.exists() {
            Download::Stopped
        } else {
            Download::Going
        }
    }

    /// Bytes of the part on disk; `None` if it cannot be looked at (renamed into place
    /// just now, say), which callers take as "go ahead": a read then answers at once.
    fn arrived(&self) -> Option<u64> {
        std::fs::metadata(&self.part).ok().map(|m| m.len())
    }

    /// True when reading up to byte `upto` (or the end, if sooner) will not wait: those
    /// bytes have arrived, or the download has ended (a read then ends or fails at once).
    fn has(&self, upto: u64) -> bool {
        self.download() != Download::Going
            || self
                .arrived()
                .is_none_or(|arrived| arrived >= upto.min(self.len))
    }

    /// True when a read at the reader's position will not wait: [`AHEAD`] more bytes
    /// have arrived, or all of them, or the download has ended.
    pub(crate) fn ready(&self) -> bool {
        self.has(self.pos().saturating_add(AHEAD))
    }

    /// True once all of the file has arrived, or nothing more will: a seek, which may
    /// read anywhere, will not wait.
    pub(crate) fn whole(&self) -> bool {
        self.has(self.len)
    }
}

/// How long a song still arriving has gone without more of it: what tells a slow
/// download, which is waited for however slow it is, from a stalled one, given up after
/// [`STALL`] with nothing new.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stall {
    /// When more last arrived (or the count began).
    since: Instant,
    /// Bytes that had arrived by then.
    arrived: u64,
}

impl Stall {
    /// Starts counting now, with `arrived` bytes there.
    pub(crate) fn new(arrived: u64) -> Stall {
        Stall {
            since: Instant::now(),
            arrived,
        }
    }

    /// Notes that `arrived` bytes are there now (more than before starts the count
    /// again); true once nothing more has come for [`STALL`].
    pub(crate) fn stalled(&mut self, arrived: u64) -> bool {
        self.stalled_at(arrived, Instant::now())
    }

    fn stalled_at(&mut self, arrived: u64, now: Instant) -> bool {
        if arrived > self.arrived {
            self.since = now;
            self.arrived = arrived;
        }
        now.saturating_duration_since(self.since) > STALL
    }
}

/// Why a song still arriving ends early: nothing more came for [`STALL`].
pub(crate) fn stalled() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "no more of the song arrived")
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// How far the file for `path` has come, if one is being written (its length file exists).
fn progress_of(path: &Path) -> Option<Progress> {
    let len_file = sidecar(path, ".part.len");
    let len: u64 = std::fs::read_to_string(&len_file)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Progress {
        part: sidecar(path, ".part"),
        len_file,
        done: path.to_path_buf(),
        len,
        pos: Arc::default(),
    })
}

/// The arriving file for `path`, if one is being written (its part and length exist).
fn open(path: &Path) -> Option<Arriving> {
    let at = progress_of(path)?;
    let file = File::open(&at.part).ok()?;
    Some(Arriving { file, at })
}

/// A file to decode from: whole, or still arriving.
pub(crate) type Source = Box<dyn symphonia::core::io::MediaSource>;

/// The file for `path`, to read whole: the file itself, or its part while it is still
/// arriving (with a handle on how far it has come). The error is the file's own when
/// neither is there.
pub(crate) fn open_file(path: &Path) -> std::io::Result<(Source, Option<Progress>)> {
    let missing = match File::open(path) {
        Ok(file) => return Ok((Box::new(file), None)),
        Err(e) => e,
    };
    if let Some(file) = open(path) {
        let at = file.progress();
        return Ok((Box::new(file), Some(at)));
    }
    // A download finishing meanwhile renames its part into place, then removes the length
    // file: it can have been neither whole at the first look nor arriving at the second.
    match File::open(path) {
        Ok(file) => Ok((Box::new(file), None)),
        Err(_) => Err(missing),
    }
}

/// Bytes of `path` that have arrived so far, if it is arriving (0 if not): what tells a
/// slow download from a stalled one.
pub(crate) fn arrived(path: &Path) -> u64 {
    progress_of(path).and_then(|at| at.arrived()).unwrap_or(0)
}

/// True when `path` can be opened without waiting inside a read: it is not arriving (it
/// is whole, or missing, and opening succeeds or fails at once), its download has ended,
/// or enough of it has come. To play from the start that is its first [`AHEAD`] bytes (a
/// header, and the first packets); to play from anywhere else it is all of it, as finding
/// a position can read anywhere in the file.
pub(crate) fn can_open(path: &Path, from_start: bool) -> bool {
    progress_of(path).is_none_or(|at| at.has(if from_start { AHEAD } else { at.len }))
}

impl Arriving {
    /// A handle on how far this file has come, for whoever decodes from it.
    pub(crate) fn progress(&self) -> Progress {
        self.at.clone()
    }

    fn advance_to(&mut self, pos: u64) {
        self.at.pos.store(pos, Ordering::Relaxed);
    }
}

impl Read for Arriving {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut since = Instant::now();
        loop {
            let n = self.file.read(buf)?;
            if n > 0 {
                self.advance_to(self.at.pos() + n as u64);
                return Ok(n);
            }
            if self.at.pos() >= self.at.len || buf.is_empty() {
                return Ok(0);
            }
            let download = self.at.download();
            if download == Download::Stopped {
                return Err(std::io::Error::other("the download stopped"));
            }
            if since.elapsed() > STALL {
                return Err(stalled());
            }
            if download == Download::Finished {
                // Finished since the last read: what is missing will not come.
                since = Instant::now() - STALL;
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Seek for Arriving {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        // Relative to the whole length, not to what has arrived.
        let to = match to {
            SeekFrom::End(off) => SeekFrom::Start(self.at.len.saturating_add_signed(off)),
            other => other,
        };
        let pos = self.file.seek(to)?;
        self.advance_to(pos);
        Ok(pos)
    }
}

impl symphonia::core::io::MediaSource for Arriving {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.at.len)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    #[test]
    fn a_stall_counts_from_the_last_byte_that_arrived() {
        let start = Instant::now();
        let mut stall = Stall {
            since: start,
            arrived: 1000,
        };
        let at = |secs: u64| start + Duration::from_secs(secs);
        // A trickle, a byte every 15 s: never stalled, though 20 s pass many times over.
        for step in 1..=10u64 {
            assert!(
                !stall.stalled_at(1000 + step, at(15 * step)),
                "at {} s",
                15 * step
            );
        }
        // Then nothing: waited for up to 20 s after the last byte, and no longer.
        assert!(!stall.stalled_at(1010, at(150 + 20)));
        assert!(stall.stalled_at(1010, at(150 + 21)));
        // Fewer bytes than before (a part replaced) is not progress either.
        assert!(stall.stalled_at(500, at(150 + 22)));
    }

    #[test]
    fn reads_wait_for_bytes_still_arriving_and_end_at_the_whole_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("song.wav");
        let whole: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(sidecar(&path, ".part.len"), whole.len().to_string()).unwrap();
        let mut part = File::create(sidecar(&path, ".part")).unwrap();
        part.write_all(&whole[..1000]).unwrap();
        let mut reader = open(&path).unwrap();
        let writer = {
            let whole = whole.clone();
            let path = path.clone();
            std::thread::spawn(move || {
                for chunk in whole[1000..].chunks(7000) {
                    std::thread::sleep(Duration::from_millis(15));
                    part.write_all(chunk).unwrap();
                }
                std::fs::rename(sidecar(&path, ".part"), &path).unwrap();
            })
        };
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        assert_eq!(got, whole);
        assert_eq!(
            reader.seek(SeekFrom::End(-10)).unwrap(),
            whole.len() as u64 - 10
        );
    }

    #[test]
    fn a_download_given_up_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("song.wav");
        std::fs::write(sidecar(&path, ".part.len"), "5000").unwrap();
        std::fs::write(sidecar(&path, ".part"), [0u8; 100]).unwrap();
        let mut reader = open(&path).unwrap();
        std::fs::remove_file(sidecar(&path, ".part")).unwrap();
        let mut got = Vec::new();
        assert!(reader.read_to_end(&mut got).is_err());
        assert_eq!(got.len(), 100);
        assert!(open(&dir.path().join("other.wav")).is_none());
    }

    #[test]
    fn a_download_that_stops_and_keeps_its_part_is_an_error_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("song.wav");
        std::fs::write(sidecar(&path, ".part.len"), "5000").unwrap();
        std::fs::write(sidecar(&path, ".part"), [0u8; 100]).unwrap();
        let mut reader = open(&path).unwrap();
        // What the cache does when the server goes away mid-song: the part stays, to be
        // resumed later; the length file goes.
        std::fs::remove_file(sidecar(&path, ".part.len")).unwrap();
        let start = Instant::now();
        let mut got = Vec::new();
        let error = reader.read_to_end(&mut got).unwrap_err();
        assert_eq!(error.to_string(), "the download stopped");
        assert_eq!(got.len(), 100);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "not the stall timeout"
        );
    }

    #[test]
    fn a_song_whose_download_finishes_while_it_is_opened_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let song = |i: usize| dir.path().join(format!("song{i}.wav"));
        // The song being downloaded now (none yet: `NONE`).
        const NONE: u64 = u64::MAX;
        let current = Arc::new(AtomicU64::new(NONE));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Song after song, as the cache downloads them: its part and length written, then
        // the part renamed into place and the length file removed. At every moment a song
        // that has begun is there, as a part with its length or whole.
        let downloads = {
            let (current, done) = (current.clone(), done.clone());
            let songs: Vec<PathBuf> = (0..1000).map(song).collect();
            std::thread::spawn(move || {
                for (i, path) in songs.iter().enumerate() {
                    let (part, len) = (sidecar(path, ".part"), sidecar(path, ".part.len"));
                    std::fs::write(&len, "64").unwrap();
                    std::fs::write(&part, [1u8; 64]).unwrap();
                    current.store(i as u64, Ordering::Relaxed);
                    std::fs::rename(&part, path).unwrap();
                    std::fs::remove_file(&len).unwrap();
                }
                done.store(true, Ordering::Relaxed);
            })
        };
        let (mut opened, mut failed) = (0, 0);
        while !done.load(Ordering::Relaxed) {
            let i = current.load(Ordering::Relaxed);
            if i == NONE {
                continue;
            }
            match open_file(&song(i as usize)) {
                Ok(_) => opened += 1,
                Err(_) => failed += 1,
            }
        }
        downloads.join().unwrap();
        assert_eq!(
            failed, 0,
            "opens that found neither the song nor its part (of {opened})"
        );
        let missing = open_file(&dir.path().join("other.wav")).err().unwrap();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn a_song_can_be_opened_once_enough_has_arrived_for_where_it_starts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("song.flac");
        let len = 3 * AHEAD;
        // Not arriving: whole, or missing (opening fails at once, not a wait).
        assert!(can_open(&path, true) && can_open(&path, false));
        assert_eq!(arrived(&path), 0);
        std::fs::write(sidecar(&path, ".part.len"), len.to_string()).unwrap();
        let mut part = File::create(sidecar(&path, ".part")).unwrap();
        part.write_all(&vec![0u8; AHEAD as usize - 1]).unwrap();
        assert!(!can_open(&path, true), "a byte short of the start's share");
        part.write_all(&[0]).unwrap();
        assert!(can_open(&path, true));
        assert_eq!(arrived(&path), AHEAD);
        assert!(!can_open(&path, false), "elsewhere needs all of it");
        part.write_all(&vec![0u8; 2 * AHEAD as usize]).unwrap();
        assert!(can_open(&path, false));
        // The download stops short: opening fails at once, so it need not wait.
        std::fs::write(sidecar(&path, ".part.len"), (len + 1).to_string()).unwrap();
        assert!(!can_open(&path, false));
        std::fs::remove_file(sidecar(&path, ".part.len")).unwrap();
        assert!(can_open(&path, false));
    }

    #[test]
    fn a_song_shorter_than_the_start_share_opens_once_all_of_it_has_come() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("song.wav");
        std::fs::write(sidecar(&path, ".part.len"), "5000").unwrap();
        let mut part = File::create(sidecar(&path, ".part")).unwrap();
        part.write_all(&[0u8; 4999]).unwrap();
        assert!(!can_open(&path, true));
        part.write_all(&[0]).unwrap();
        assert!(can_open(&path, true) && can_open(&path, false));
        let reader = open(&path).unwrap();
        assert!(reader.progress().whole());
    }
}
