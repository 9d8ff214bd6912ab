//! Offbeat's playlists: one Automerge document per playlist plus an index document, kept
//! on disk by a samod repo, so two devices can edit offline and both edits survive a merge.
//!
//! - [`pos`]: fractional-index positions (the order of entries).
//! - [`doc`]: a playlist document's layout, reads and changes (pure functions on
//!   `Automerge`; the merge tests drive these directly).

mod cache;
pub mod chunks;
pub mod doc;
pub mod exchange;
pub mod pos;
pub mod remote;
pub mod storage;
pub mod store;

pub use doc::{DocError, Entry, Place, Playlist, PlaylistKind, PlaylistMeta, TrackRef};
pub use remote::ServerDialer;
pub use store::{Fetched, PlaylistSummary, Quarantined, Store, StoreError};
