//! One playlist as an Automerge document: how it is laid out, read and changed.
//!
//! ```text
//! ROOT
//!   schema       "offbeat.playlist/1"
//!   kind         "playlist" | "essentials"
//!   name         string           (a Text object written by another client reads too)
//!   description  string
//!   created_at   int (ms since the epoch)
//!   updated_at   int
//!   entries      map: entry id -> { track_uid, title, artist, album: string,
//!                                   duration_ms: int, pos: string, added_at: int }
//! ```
//!
//! The order is `(pos, entry id)`; see [`crate::pos`]. Every change writes single fields
//! (a move writes `pos`, never the whole entry), which is what makes the merge rules hold:
//! a removed entry stays removed when the other side moved it, since the move wrote into
//! an object that is no longer in the map.

use automerge::transaction::{Transactable, Transaction};
use std::collections::HashMap;
use std::sync::Arc;

use automerge::iter::{DocItem, MapRangeItem};
use automerge::{
    hydrate, Automerge, AutomergeError, ObjId, ObjType, ReadDoc, ScalarValue, ValueRef, ROOT,
};
use serde::{Deserialize, Serialize};

use crate::pos::{self, Jitter};

pub const SCHEMA: &str = "offbeat.playlist/1";

/// What a playlist is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum PlaylistKind {
    Playlist,
    /// Emergency Essentials: on every install, never deleted, always pinned.
    Essentials,
}

impl PlaylistKind {
    fn as_str(self) -> &'static str {
        match self {
            PlaylistKind::Playlist => "playlist",
            PlaylistKind::Essentials => "essentials",
        }
    }
}

/// A track as a playlist remembers it: its identity plus what to show when this device
/// does not have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TrackRef {
    pub track_uid: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub duration_ms: u32,
}

/// One entry, in the order it is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: String,
    pub track: TrackRef,
    pub pos: String,
    pub added_at: i64,
}

/// Everything about a playlist but its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PlaylistMeta {
    pub kind: PlaylistKind,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A playlist as read: its fields and its entries in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playlist {
    pub meta: PlaylistMeta,
    pub entries: Vec<Entry>,
}

/// Where added entries go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    End,
    /// Before the entry now at this index of the read order (past the end: at the end).
    At(usize),
}

/// A document that is not an Offbeat playlist, or a change that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("not an Offbeat playlist (no entries map)")]
    NotAPlaylist,
    #[error(transparent)]
    Automerge(#[from] AutomergeError),
}

/// Writes a new playlist into an empty document.
pub fn init(doc: &mut Automerge, kind: PlaylistKind, name: &str, now: i64) -> Result<(), DocError> {
    transact(doc, |tx| {
        tx.put(ROOT, "schema", SCHEMA)?;
        tx.put(ROOT, "kind", kind.as_str())?;
        tx.put(ROOT, "name", name)?;
        tx.put(ROOT, "description", "")?;
        tx.put(ROOT, "created_at", now)?;
        tx.put(ROOT, "updated_at", now)?;
        tx.put_object(ROOT, "entries", ObjType::Map)?;
        Ok(())
    })
}

/// Reads the playlist's fields and entries.
///
/// One pass over the entries' objects (automerge's document iterator) rather than a map
/// lookup per entry: for 10,000 entries that is about a third of the time.
pub fn read(doc: &Automerge) -> Result<Playlist, DocError> {
    let entries_obj = entries_obj(doc)?;
    // The entries the map holds now, by their object.
    let mut entries = Vec::new();
    let mut slots: HashMap<ObjId, usize> = HashMap::new();
    for item in doc.map_range(&entries_obj, ..) {
        if !matches!(item.value, ValueRef::Object(ObjType::Map)) {
            continue;
        }
        slots.insert(item.id(), entries.len());
        entries.push(empty_entry(item.key.into_owned()));
    }
    // Their fields, object by object (the iterator hands out one shared id per object).
    let mut current: Option<(Arc<ObjId>, Option<usize>)> = None;
    for item in doc.iter_at(&entries_obj, None) {
        let DocItem::Map(field) = &item.item else {
            continue;
        };
        let slot = match &current {
            Some((obj, slot)) if Arc::ptr_eq(obj, &item.obj) => *slot,
            _ => {
                let slot = slots.get(item.obj.as_ref()).copied();
                current = Some((item.obj.clone(), slot));
                slot
            }
        };
        if let Some(entry) = slot.and_then(|i| entries.get_mut(i)) {
            apply_field(doc, entry, field);
        }
    }
    entries.sort_by(|a, b| (&a.pos, &a.id).cmp(&(&b.pos, &b.id)));
    Ok(Playlist {
        meta: read_meta(doc)?,
        entries,
    })
}

pub fn read_meta(doc: &Automerge) -> Result<PlaylistMeta, DocError> {
    entries_obj(doc)?;
    let kind = match string(doc, &ROOT, "kind").as_deref() {
        Some("essentials") => PlaylistKind::Essentials,
        _ => PlaylistKind::Playlist,
    };
    Ok(PlaylistMeta {
        kind,
        name: string(doc, &ROOT, "name").unwrap_or_default(),
        description: string(doc, &ROOT, "description").unwrap_or_default(),
        created_at: int(doc, &ROOT, "created_at").unwrap_or(0),
        updated_at: int(doc, &ROOT, "updated_at").unwrap_or(0),
    })
}

/// How many entries the playlist has, and their total duration.
pub fn summary(doc: &Automerge) -> Result<(u32, u64), DocError> {
    let entries_obj = entries_obj(doc)?;
    let (mut count, mut total) = (0u32, 0u64);
    for item in doc.map_range(&entries_obj, ..) {
        if matches!(item.value, ValueRef::Object(ObjType::Map)) {
            count += 1;
            total += int(doc, &item.id(), "duration_ms").unwrap_or(0).max(0) as u64;
        }
    }
    Ok((count, total))
}

pub fn rename(doc: &mut Automerge, name: &str, now: i64) -> Result<(), DocError> {
    transact(doc, |tx| {
        tx.put(ROOT, "name", name)?;
        tx.put(ROOT, "updated_at", now)?;
        Ok(())
    })
}

pub fn set_description(doc: &mut Automerge, description: &str, now: i64) -> Result<(), DocError> {
    transact(doc, |tx| {
        tx.put(ROOT, "description", description)?;
        tx.put(ROOT, "updated_at", now)?;
        Ok(())
    })
}

/// Adds `tracks` in order at `place`; returns the new entry ids.
pub fn add(
    doc: &mut Automerge,
    tracks: &[TrackRef],
    place: Place,
    now: i64,
    jitter: &mut impl Jitter,
) -> Result<Vec<String>, DocError> {
    if tracks.is_empty() {
        return Ok(Vec::new());
    }
    let order = order(doc)?;
    let at = match place {
        Place::End => order.len(),
        Place::At(i) => i.min(order.len()),
    };
    let before = at.checked_sub(1).map(|i| order[i].1.as_str());
    let after = order.get(at).map(|(_, p)| p.as_str());
    let positions = pos::many_between(before, after, tracks.len(), jitter);
    let ids: Vec<String> = (0..tracks.len()).map(|_| new_entry_id()).collect();
    let entries_obj = entries_obj(doc)?;
    let batch: Vec<_> = tracks.iter().zip(&positions).zip(&ids).collect();
    let chunks = batch.len().div_ceil(ADD_CHUNK);
    for (n, chunk) in batch.chunks(ADD_CHUNK).enumerate() {
        add_chunk(doc, &entries_obj, chunk, now, n + 1 == chunks)?;
    }
    Ok(ids)
}

/// The most entries one change adds. A large add becomes several changes: each stays a
/// bounded size to send, and samod stores a save of more than 10 changes as one compact
/// snapshot (which loads about three times faster than the changes themselves) rather
/// than as the changes.
pub const ADD_CHUNK: usize = 500;

fn add_chunk(
    doc: &mut Automerge,
    entries_obj: &ObjId,
    chunk: &[((&TrackRef, &String), &String)],
    now: i64,
    last: bool,
) -> Result<(), DocError> {
    transact(doc, |tx| {
        for ((track, pos), id) in chunk {
            // One batch per entry: automerge splices its fields in at once rather than
            // one operation at a time (several times faster for a large add).
            let text = |s: &str| hydrate::Value::Scalar(ScalarValue::Str(s.into()));
            let int = |n: i64| hydrate::Value::Scalar(ScalarValue::Int(n));
            let fields: HashMap<&str, hydrate::Value> = [
                ("track_uid", text(&track.track_uid)),
                ("title", text(&track.title)),
                ("artist", text(&track.artist)),
                ("album", text(&track.album)),
                ("duration_ms", int(i64::from(track.duration_ms))),
                ("pos", text(pos)),
                ("added_at", int(now)),
            ]
            .into_iter()
            .collect();
            tx.batch_create_object(entries_obj, id.as_str(), &fields.into(), false)?;
        }
        if last {
            tx.put(ROOT, "updated_at", now)?;
        }
        Ok(())
    })
}

/// Removes entries (ids not in the playlist are ignored); returns how many went.
pub fn remove(doc: &mut Automerge, ids: &[String], now: i64) -> Result<usize, DocError> {
    let entries_obj = entries_obj(doc)?;
    let present: Vec<&String> = ids
        .iter()
        .filter(|id| matches!(doc.get(&entries_obj, id.as_str()), Ok(Some(_))))
        .collect();
    if present.is_empty() {
        return Ok(0);
    }
    transact(doc, |tx| {
        for id in &present {
            tx.delete(&entries_obj, id.as_str())?;
        }
        tx.put(ROOT, "updated_at", now)?;
        Ok(())
    })?;
    Ok(present.len())
}

/// Moves entries (in the order given) so they sit together before the entry now at
/// `place` (counted in the order without them) or at the end. Only their `pos` changes.
pub fn move_entries(
    doc: &mut Automerge,
    ids: &[String],
    place: Place,
    now: i64,
    jitter: &mut impl Jitter,
) -> Result<(), DocError> {
    let entries_obj = entries_obj(doc)?;
    let moving: Vec<(String, ObjId)> = ids
        .iter()
        .filter_map(|id| match doc.get(&entries_obj, id.as_str()) {
            Ok(Some((automerge::Value::Object(ObjType::Map), obj))) => Some((id.clone(), obj)),
            _ => None,
        })
        .collect();
    if moving.is_empty() {
        return Ok(());
    }
    let rest: Vec<(String, String)> = order(doc)?
        .into_iter()
        .filter(|(id, _)| !moving.iter().any(|(m, _)| m == id))
        .collect();
    let at = match place {
        Place::End => rest.len(),
        Place::At(i) => i.min(rest.len()),
    };
    let before = at.checked_sub(1).map(|i| rest[i].1.as_str());
    let after = rest.get(at).map(|(_, p)| p.as_str());
    let positions = pos::many_between(before, after, moving.len(), jitter);
    transact(doc, |tx| {
        for ((_, obj), pos) in moving.iter().zip(&positions) {
            tx.put(obj, "pos", pos.as_str())?;
        }
        tx.put(ROOT, "updated_at", now)?;
        Ok(())
    })
}

/// Entry ids with their positions, in read order.
fn order(doc: &Automerge) -> Result<Vec<(String, String)>, DocError> {
    let entries_obj = entries_obj(doc)?;
    let mut out: Vec<(String, String)> = doc
        .map_range(&entries_obj, ..)
        .filter(|item| matches!(item.value, ValueRef::Object(ObjType::Map)))
        .map(|item| {
            let obj = item.id();
            (
                item.key.into_owned(),
                string(doc, &obj, "pos").unwrap_or_default(),
            )
        })
        .collect();
    out.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    Ok(out)
}

fn empty_entry(id: String) -> Entry {
    Entry {
        id,
        track: TrackRef {
            track_uid: String::new(),
            title: String::new(),
            artist: String::new(),
            album: String::new(),
            duration_ms: 0,
        },
        pos: String::new(),
        added_at: 0,
    }
}

/// Sets the entry field `item` holds (strings may be Text objects; numbers any kind).
fn apply_field(doc: &Automerge, entry: &mut Entry, item: &MapRangeItem<'_>) {
    let text = || match &item.value {
        ValueRef::Scalar(automerge::ScalarValueRef::Str(s)) => s.to_string(),
        ValueRef::Object(ObjType::Text) => doc.text(item.id()).unwrap_or_default(),
        _ => String::new(),
    };
    let number = || match &item.value {
        ValueRef::Scalar(automerge::ScalarValueRef::Int(n)) => *n,
        ValueRef::Scalar(automerge::ScalarValueRef::Uint(n)) => i64::try_from(*n).unwrap_or(0),
        ValueRef::Scalar(automerge::ScalarValueRef::F64(n)) => *n as i64,
        _ => 0,
    };
    match item.key.as_ref() {
        "track_uid" => entry.track.track_uid = text(),
        "title" => entry.track.title = text(),
        "artist" => entry.track.artist = text(),
        "album" => entry.track.album = text(),
        "duration_ms" => {
            entry.track.duration_ms = u32::try_from(number().max(0)).unwrap_or(u32::MAX)
        }
        "pos" => entry.pos = text(),
        "added_at" => entry.added_at = number(),
        _ => {}
    }
}

fn entries_obj(doc: &Automerge) -> Result<ObjId, DocError> {
    match doc.get(ROOT, "entries")? {
        Some((automerge::Value::Object(ObjType::Map), obj)) => Ok(obj),
        _ => Err(DocError::NotAPlaylist),
    }
}

/// A string field: a plain string, or a Text object (as JavaScript clients may write).
pub(crate) fn string(doc: &Automerge, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (automerge::Value::Scalar(s), _) => match s.as_ref() {
            automerge::ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        (automerge::Value::Object(ObjType::Text), id) => doc.text(id).ok(),
        _ => None,
    }
}

pub(crate) fn int(doc: &Automerge, obj: &ObjId, key: &str) -> Option<i64> {
    match doc.get(obj, key).ok()?? {
        (automerge::Value::Scalar(s), _) => match s.as_ref() {
            automerge::ScalarValue::Int(n) => Some(*n),
            automerge::ScalarValue::Uint(n) => i64::try_from(*n).ok(),
            automerge::ScalarValue::F64(n) => Some(*n as i64),
            automerge::ScalarValue::Timestamp(n) => Some(*n),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn transact<F>(doc: &mut Automerge, f: F) -> Result<(), DocError>
where
    F: FnOnce(&mut Transaction<'_>) -> Result<(), AutomergeError>,
{
    doc.transact(f).map(|_| ()).map_err(|f| f.error.into())
}

/// A new entry id: 128 random bits as hex, so ids made on two devices never collide.
fn new_entry_id() -> String {
    format!("{:032x}", fastrand::u128(..))
}
