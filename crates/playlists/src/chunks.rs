//! Checking a stored Automerge file without loading it: every chunk in it must be whole
//! and match its checksum (and a change must hash to the name it is stored under).
//!
//! The chunk format: magic bytes `85 6f 4a 83`, a 4-byte checksum (the first bytes of the
//! SHA-256 of what follows it), the chunk type, the data length (unsigned LEB128), the
//! data. A change's hash is that whole SHA-256. Loading a 10,000-entry document costs tens
//! of milliseconds; hashing its bytes costs about one.

use automerge::Change;
use sha2::{Digest, Sha256};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT: u8 = 0;
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;

/// Checks every chunk of a file. `change_hash`: the hex hash the file is named after,
/// when it holds one change (samod's incremental files).
pub fn verify(bytes: &[u8], change_hash: Option<&str>) -> Result<(), String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    let mut rest = bytes;
    let mut chunks = 0;
    while !rest.is_empty() {
        let (chunk_len, kind, hash) = chunk(rest)?;
        chunks += 1;
        if let Some(name) = change_hash {
            let actual = match kind {
                CHANGE => hex(&hash),
                // The checksum of a compressed change is that of its uncompressed form:
                // parse it (rare: only large changes are stored compressed).
                COMPRESSED_CHANGE => Change::try_from(&rest[..chunk_len])
                    .map(|c| c.hash().to_string())
                    .map_err(|e| format!("a compressed change does not parse ({e})"))?,
                _ => return Err("holds a document where a change was expected".into()),
            };
            if actual != name || chunks > 1 {
                return Err("its content does not match its name".into());
            }
        }
        rest = &rest[chunk_len..];
    }
    Ok(())
}

/// One chunk at the start of `bytes`: its length, type and SHA-256 (checked against the
/// checksum, except for compressed changes).
fn chunk(bytes: &[u8]) -> Result<(usize, u8, [u8; 32]), String> {
    if bytes.len() < 10 || bytes[..4] != MAGIC {
        return Err("not an Automerge chunk (bad magic bytes)".into());
    }
    let checksum = &bytes[4..8];
    let kind = bytes[8];
    if !matches!(kind, DOCUMENT | CHANGE | COMPRESSED_CHANGE) {
        return Err(format!("unknown chunk type {kind}"));
    }
    let (len, leb) = uleb128(&bytes[9..]).ok_or("the chunk header is cut short")?;
    let start = 9 + leb;
    let end = start
        .checked_add(usize::try_from(len).map_err(|_| "the chunk is too large")?)
        .filter(|end| *end <= bytes.len())
        .ok_or("the file is cut short")?;
    let mut hasher = Sha256::new();
    hasher.update(&bytes[8..start]);
    hasher.update(&bytes[start..end]);
    let hash: [u8; 32] = hasher.finalize().into();
    if kind != COMPRESSED_CHANGE && hash[..4] != *checksum {
        return Err("its checksum does not match".into());
    }
    Ok((end, kind, hash))
}

fn uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ReadDoc, ROOT};

    fn doc() -> Automerge {
        let mut d = Automerge::new();
        let mut tx = d.transaction();
        for i in 0..200 {
            let _ = tx.put(ROOT, format!("k{i}"), format!("value {i}"));
        }
        tx.commit();
        d
    }

    #[test]
    fn whole_files_pass_and_damaged_ones_do_not() {
        let d = doc();
        let snapshot = d.save();
        assert_eq!(verify(&snapshot, None), Ok(()));
        let change = d.get_last_local_change().map(|c| c.raw_bytes().to_vec());
        let hash = d.get_heads()[0].to_string();
        let change = change.unwrap_or_default();
        assert_eq!(verify(&change, Some(&hash)), Ok(()));

        assert!(verify(&snapshot[..snapshot.len() - 3], None).is_err());
        let mut flipped = snapshot.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 1;
        assert!(verify(&flipped, None).is_err());
        assert!(verify(&change, Some("00ff")).is_err());
        assert!(verify(b"", None).is_err());
        assert!(verify(b"hello world, not automerge", None).is_err());
        // Two chunks back to back (a snapshot and a change) are fine.
        let mut both = snapshot.clone();
        both.extend_from_slice(&change);
        assert_eq!(verify(&both, None), Ok(()));
        let _ = d.get(ROOT, "k1");
    }
}
