//! Reading a file through a few windows that survive seeks, for the tag readers.
//!
//! lofty seeks a great deal while it reads one file (the header, the tags, the first audio
//! frame, the end of the file, back again), and `BufReader` drops its buffer at every seek:
//! each seek cost a system call to move and another to refill, about thirty per file. Here
//! a seek is arithmetic, a read inside a window is a copy, and a window is filled with one
//! positioned read.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;

/// Bytes per window: a typical file's tags and first frames fit in one.
const WINDOW: usize = 32 * 1024;
/// Windows kept at once (the start of a file and its end, say).
const WINDOWS: usize = 2;

/// A file read through [`WINDOWS`] windows of [`WINDOW`] bytes.
#[derive(Debug)]
pub(crate) struct WindowedFile {
    file: File,
    /// The file's length, learned the first time a seek is from the end.
    len: Option<u64>,
    pos: u64,
    /// Least recently used first.
    windows: Vec<Window>,
}

#[derive(Debug)]
struct Window {
    start: u64,
    /// Always [`WINDOW`] long once made; only the first `filled` bytes are the file's.
    bytes: Vec<u8>,
    filled: usize,
}

impl Window {
    fn holds(&self, pos: u64) -> bool {
        pos >= self.start && pos < self.start + self.filled as u64
    }
}

impl WindowedFile {
    pub(crate) fn new(file: File) -> WindowedFile {
        WindowedFile {
            file,
            len: None,
            pos: 0,
            windows: Vec::with_capacity(WINDOWS),
        }
    }

    /// Reads from `at` until `buf` is full or the file ends; returns how much was read.
    fn read_full_at(&self, buf: &mut [u8], at: u64) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            match self.file.read_at(&mut buf[done..], at + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}

impl Read for WindowedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let index = match self.windows.iter().position(|w| w.holds(self.pos)) {
            Some(i) => i,
            None if buf.len() >= WINDOW => {
                // A large read (an embedded picture) goes straight to the caller.
                let n = self.read_full_at(buf, self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            None => {
                let mut window = if self.windows.len() < WINDOWS {
                    Window {
                        start: 0,
                        bytes: vec![0; WINDOW],
                        filled: 0,
                    }
                } else {
                    self.windows.remove(0)
                };
                window.start = self.pos;
                window.filled = self.read_full_at(&mut window.bytes, self.pos)?;
                if window.filled == 0 {
                    // At or past the end: keep the buffer for the next window.
                    self.windows.insert(0, window);
                    return Ok(0);
                }
                self.windows.push(window);
                self.windows.len() - 1
            }
        };
        let window = self.windows.remove(index);
        let from = (self.pos - window.start) as usize;
        let n = buf.len().min(window.filled - from);
        buf[..n].copy_from_slice(&window.bytes[from..from + n]);
        self.pos += n as u64;
        self.windows.push(window);
        Ok(n)
    }
}

impl Seek for WindowedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::Current(by) => self.pos.checked_add_signed(by),
            SeekFrom::End(by) => {
                let len = match self.len {
                    Some(len) => len,
                    None => *self.len.insert(self.file.metadata()?.len()),
                };
                len.checked_add_signed(by)
            }
        };
        self.pos = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid seek to a negative or overflowing position",
            )
        })?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    /// The same reads and seeks on a windowed file and on the bytes in memory give the
    /// same results, across window edges, past the end and with large reads.
    #[test]
    fn reads_and_seeks_like_the_file_itself() -> io::Result<()> {
        let data: Vec<u8> = (0..(WINDOW * 5 + 123))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut tmp = tempfile::NamedTempFile::new()?;
        tmp.write_all(&data)?;
        let mut windowed = WindowedFile::new(File::open(tmp.path())?);
        let mut memory = Cursor::new(data.clone());
        let len = data.len() as i64;
        // (seek, read length) steps: the start, the end, back, across edges, past the end.
        let steps: [(SeekFrom, usize); 12] = [
            (SeekFrom::Start(0), 10),
            (SeekFrom::Current(5), 40_000),
            (SeekFrom::End(-128), 128),
            (SeekFrom::Start(3), 100),
            (SeekFrom::Start(WINDOW as u64 - 4), 8),
            (SeekFrom::End(-10), 64),
            (SeekFrom::Current(0), 16),
            (SeekFrom::Start(2 * WINDOW as u64 + 1), 3 * WINDOW),
            (SeekFrom::Current(-20), 30),
            (SeekFrom::End(100), 10),
            (SeekFrom::Start(len as u64 - 1), 5),
            (SeekFrom::Start(WINDOW as u64), 1),
        ];
        for (i, (to, n)) in steps.into_iter().enumerate() {
            assert_eq!(windowed.seek(to)?, memory.seek(to)?, "step {i}: seek");
            let (mut a, mut b) = (vec![0; n], vec![0; n]);
            let (got_a, got_b) = (windowed.read(&mut a)?, memory.read(&mut b)?);
            // A read may return less than asked (a window's end); what it returns matches.
            assert!(
                got_a > 0 || got_b == 0,
                "step {i}: read nothing before the end"
            );
            assert_eq!(a[..got_a], b[..got_a], "step {i}: bytes");
            memory.seek(SeekFrom::Current(got_a as i64 - got_b as i64))?;
        }
        // read_exact across several windows.
        windowed.seek(SeekFrom::Start(5))?;
        let mut all = vec![0; data.len() - 5];
        windowed.read_exact(&mut all)?;
        assert_eq!(all, data[5..]);
        assert!(windowed.seek(SeekFrom::Current(-len - 1)).is_err());
        Ok(())
    }
}
