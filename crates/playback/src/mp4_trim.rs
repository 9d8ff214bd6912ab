//! Encoder delay and padding of MP4 audio (M4A), which symphonia does not apply: AAC
//! encoders put ~1024-2112 frames of priming before the music and pad the last packet,
//! and say so in the track's edit list (`elst`) or in iTunes' `iTunSMPB` tag. Without
//! trimming them, two tracks of a gapless album are heard with a gap between them.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::arriving::Source;

/// What to drop: `skip` frames at the start, and everything after `frames` more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trim {
    pub skip: u64,
    pub frames: Option<u64>,
}

/// The trim an MP4 file declares for its (first) audio track, in frames at
/// `sample_rate`; `None` for other files, or when the file declares none.
pub(crate) fn mp4_trim(path: &Path, sample_rate: u32) -> Option<Trim> {
    // An arriving file's moov has arrived: the probe that found the track read it.
    let (mut file, _) = crate::arriving::open_file(path).ok()?;
    let len = file.byte_len()?;
    let mut head = [0u8; 8];
    file.read_exact(&mut head).ok()?;
    if &head[4..8] != b"ftyp" {
        return None;
    }
    let moov = find_child(&mut file, 0, len, b"moov")?;
    let movie_timescale = find_child(&mut file, moov.0, moov.1, b"mvhd")
        .and_then(|(at, end)| timescale_of(&mut file, at, end, 12, 20));
    // The audio track: the first `trak` whose handler is `soun`.
    let mut at = moov.0;
    while let Some((trak, trak_end)) = find_child(&mut file, at, moov.1, b"trak") {
        at = trak_end;
        let Some(mdia) = find_child(&mut file, trak, trak_end, b"mdia") else {
            continue;
        };
        let is_audio = find_child(&mut file, mdia.0, mdia.1, b"hdlr")
            .and_then(|(h, _)| read_at::<4>(&mut file, h + 8))
            .is_some_and(|t| &t == b"soun");
        if !is_audio {
            continue;
        }
        let media_timescale = find_child(&mut file, mdia.0, mdia.1, b"mdhd")
            .and_then(|(m, end)| timescale_of(&mut file, m, end, 12, 20));
        let edit = find_child(&mut file, trak, trak_end, b"edts")
            .and_then(|(e, end)| find_child(&mut file, e, end, b"elst"))
            .and_then(|(el, end)| first_edit(&mut file, el, end));
        if let (Some((duration, media_time)), Some(movie_ts), Some(media_ts)) =
            (edit, movie_timescale, media_timescale)
        {
            let rate = u128::from(sample_rate);
            let skip = (u128::from(media_time) * rate / u128::from(media_ts)) as u64;
            let frames =
                (duration > 0).then(|| (u128::from(duration) * rate / u128::from(movie_ts)) as u64);
            if skip > 0 || frames.is_some() {
                return Some(Trim { skip, frames });
            }
        }
        break;
    }
    itunsmpb(&mut file, moov)
}

/// The first atom named `name` among the children in `[from, to)`, as the range of its
/// contents.
fn find_child(file: &mut Source, from: u64, to: u64, name: &[u8; 4]) -> Option<(u64, u64)> {
    let mut at = from;
    while at + 8 <= to {
        let header = read_at::<8>(file, at)?;
        let mut size = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let mut body = at + 8;
        if size == 1 {
            size = u64::from_be_bytes(read_at::<8>(file, at + 8)?);
            body = at + 16;
        } else if size == 0 {
            size = to - at;
        }
        // A size that is too small, or runs past its parent (or past u64), is damage.
        let end = at.checked_add(size).filter(|&end| end <= to)?;
        if size < body - at {
            return None;
        }
        if &header[4..8] == name {
            return Some((body, end));
        }
        at = end;
    }
    None
}

fn read_at<const N: usize>(file: &mut Source, at: u64) -> Option<[u8; N]> {
    let mut buf = [0u8; N];
    file.seek(SeekFrom::Start(at)).ok()?;
    file.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// The timescale of an `mvhd` or `mdhd` box: after version/flags and two dates (32-bit in
/// version 0, 64-bit in version 1).
fn timescale_of(file: &mut Source, at: u64, end: u64, v0: u64, v1: u64) -> Option<u64> {
    let version = read_at::<1>(file, at)?[0];
    let offset = if version == 1 { v1 } else { v0 };
    if at + offset + 4 > end {
        return None;
    }
    let ts = u64::from(u32::from_be_bytes(read_at::<4>(file, at + offset)?));
    (ts > 0).then_some(ts)
}

/// The first edit that shows media: (segment duration in movie timescale, media time in
/// media timescale). An empty edit (media time -1) only delays the start; skip it. Reads
/// only inside the `elst` box (from `at` to `end`), whatever count it claims.
fn first_edit(file: &mut Source, at: u64, end: u64) -> Option<(u64, u64)> {
    let version = read_at::<1>(file, at)?[0];
    let count = u32::from_be_bytes(read_at::<4>(file, at + 4)?);
    let size = if version == 1 { 20 } else { 12 };
    let mut entry = at + 8;
    for _ in 0..count.min(16) {
        if entry + size > end {
            return None;
        }
        let (duration, media_time) = if version == 1 {
            let d = u64::from_be_bytes(read_at::<8>(file, entry)?);
            let m = i64::from_be_bytes(read_at::<8>(file, entry + 8)?);
            (d, m)
        } else {
            let d = u64::from(u32::from_be_bytes(read_at::<4>(file, entry)?));
            let m = i64::from(i32::from_be_bytes(read_at::<4>(file, entry + 4)?));
            (d, m)
        };
        if media_time >= 0 {
            return Some((duration, media_time as u64));
        }
        entry += size;
    }
    None
}

/// iTunes' gapless tag: `moov/udta/meta/ilst/----` named `iTunSMPB`, whose text holds hex
/// fields: (zero) priming padding original-length ...
fn itunsmpb(file: &mut Source, moov: (u64, u64)) -> Option<Trim> {
    let udta = find_child(file, moov.0, moov.1, b"udta")?;
    let meta = find_child(file, udta.0, udta.1, b"meta")?;
    // `meta` is a full box: version and flags come before its children.
    let ilst = find_child(file, meta.0 + 4, meta.1, b"ilst")?;
    let mut at = ilst.0;
    while let Some((item, end)) = find_child(file, at, ilst.1, b"----") {
        at = end;
        let name = find_child(file, item, end, b"name")?;
        let len = (name.1 - name.0).min(64) as usize;
        let mut text = vec![0u8; len];
        file.seek(SeekFrom::Start(name.0)).ok()?;
        file.read_exact(&mut text).ok()?;
        if !text.ends_with(b"iTunSMPB") {
            continue;
        }
        let data = find_child(file, item, end, b"data")?;
        let len = (data.1 - data.0).min(256) as usize;
        let mut value = vec![0u8; len];
        file.seek(SeekFrom::Start(data.0)).ok()?;
        file.read_exact(&mut value).ok()?;
        // 8 bytes of type and locale, then the text.
        let text = String::from_utf8_lossy(value.get(8..)?).into_owned();
        let fields: Vec<u64> = text
            .split_whitespace()
            .filter_map(|f| u64::from_str_radix(f, 16).ok())
            .collect();
        let (skip, frames) = (*fields.get(1)?, *fields.get(3)?);
        return Some(Trim {
            skip,
            frames: (frames > 0).then_some(frames),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ffmpeg_m4a_declares_its_priming_and_length_in_the_edit_list() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fixtures/gapless/sine-a.m4a");
        assert_eq!(
            mp4_trim(&path, 44_100),
            Some(Trim {
                skip: 1024,
                frames: Some(17_640)
            })
        );
        let flac = path.with_extension("flac");
        assert_eq!(mp4_trim(&flac, 44_100), None);
    }

    #[test]
    fn damaged_atom_sizes_give_no_trim_rather_than_a_panic_or_a_hang() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bad.m4a");
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&[0, 0, 0, 16]);
        bytes.extend_from_slice(b"ftypM4A \0\0\0\0");
        // A 64-bit size that wraps past u64::MAX.
        bytes.extend_from_slice(&[0, 0, 0, 1]);
        bytes.extend_from_slice(b"moov");
        bytes.extend_from_slice(&u64::MAX.to_be_bytes());
        std::fs::write(&path, &bytes)?;
        assert_eq!(mp4_trim(&path, 44_100), None);
        Ok(())
    }
}
