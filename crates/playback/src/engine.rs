//! The engine: a thread that owns the queue, the decoders and the output, driven by
//! [`Command`]s and reporting [`Event`]s, both over bounded channels.
//!
//! Gapless: each track has its own stream. When the playing track's decoder reaches its
//! end, the next entry of the queue is opened and decoded into a second stream, which is
//! appended to the output; the output moves from one to the next without a sample in
//! between. Only the audible track and the one after it are ever open.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender, TryRecvError};

use crate::arriving::Stall;
use crate::queue::{Queue, QueueEntry, QueueTrack, Removed, Repeat, ReplayGainTags};
use crate::stream::{stream, StreamShared, StreamWriter, Wake};
use crate::{AudioOutput, Decoder, PlaybackError, StreamFormat, StreamReader};

/// How often position events are sent while playing.
const POSITION_INTERVAL: Duration = Duration::from_millis(200);
/// How long the engine sleeps when nothing is playing.
const IDLE_WAIT: Duration = Duration::from_millis(10);
/// How often the engine looks whether more of a file still arriving has come.
const ARRIVING_POLL: Duration = Duration::from_millis(10);

/// What the engine can be asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Play one file now, replacing the queue with it.
    Play(PathBuf),
    /// Replace the queue and play `start` from `position_ms` (paused: loaded, not playing,
    /// as when a saved queue is restored).
    SetQueue {
        tracks: Vec<QueueTrack>,
        start: usize,
        position_ms: u64,
        paused: bool,
    },
    /// Load a saved queue, paused at `position_ms` of `start` (see [`Queue::restore`]).
    Restore {
        tracks: Vec<QueueTrack>,
        start: usize,
        position_ms: u64,
        shuffle: bool,
        /// The order the tracks were added in ([`QueueSnapshot::unshuffled`]).
        unshuffled: Vec<usize>,
        repeat: Repeat,
    },
    /// Queue tracks right after the playing one.
    PlayNext(Vec<QueueTrack>),
    /// Queue tracks at the end.
    Append(Vec<QueueTrack>),
    /// Remove entries by id; removing the playing one plays the next.
    Remove(Vec<u64>),
    /// Move an entry to a position in play order.
    Move {
        entry_id: u64,
        to: usize,
    },
    /// Empty the queue and stop.
    Clear,
    /// Play the entry with this id.
    Jump(u64),
    Next,
    /// Restart the track if more than 3 s in, else play the one before.
    Previous,
    SetShuffle(bool),
    SetRepeat(Repeat),
    SetReplayGain(ReplayGainSettings),
    Pause,
    Resume,
    Stop,
    /// Jump to a position in the current track, in milliseconds.
    Seek(u64),
    /// Set the volume, 0.0 (silent) to 1.0 (full), on a perceptual curve ([`gain`]).
    SetVolume(f32),
    /// Play through this output device (an id from [`crate::output_devices`]; `None`: the
    /// system's default). The track goes on where it was.
    SetOutputDevice(Option<String>),
    Shutdown,
}

/// Which ReplayGain value levels the tracks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReplayGainMode {
    #[default]
    Off,
    Track,
    /// The album's gain (a track's own when its album has none), so an album keeps its
    /// loud and quiet songs.
    Album,
}

/// How ReplayGain is applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayGainSettings {
    pub mode: ReplayGainMode,
    /// Added to every tagged gain, in dB (the common reference is 89 dB SPL; +6 suits
    /// quiet listening). Untagged tracks get no pre-amp.
    pub preamp_db: f32,
    /// Lower the gain as needed so the tagged peak does not clip.
    pub prevent_clipping: bool,
}

impl Default for ReplayGainSettings {
    fn default() -> ReplayGainSettings {
        ReplayGainSettings {
            mode: ReplayGainMode::Off,
            preamp_db: 0.0,
            prevent_clipping: true,
        }
    }
}

impl ReplayGainSettings {
    /// The linear gain for a track with these tags.
    pub fn linear_gain(&self, tags: &ReplayGainTags) -> f32 {
        let (gain, peak) = match self.mode {
            ReplayGainMode::Off => return 1.0,
            ReplayGainMode::Track => (
                tags.track_gain_db.or(tags.album_gain_db),
                tags.track_peak.or(tags.album_peak),
            ),
            ReplayGainMode::Album => (
                tags.album_gain_db.or(tags.track_gain_db),
                tags.album_peak.or(tags.track_peak),
            ),
        };
        let Some(gain_db) = gain else {
            return 1.0;
        };
        let linear = 10f32.powf((gain_db + self.preamp_db) / 20.0);
        match peak.filter(|p| *p > 0.0) {
            Some(peak) if self.prevent_clipping => linear.min(1.0 / peak),
            _ => linear,
        }
    }
}

/// The queue as the UI shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSnapshot {
    /// Every entry, in play order.
    pub entries: Vec<QueueEntry>,
    /// Position of the playing (or loaded) entry in `entries`.
    pub current: Option<usize>,
    pub shuffle: bool,
    /// Positions in `entries`, in the order the entries were added: the order turning
    /// shuffle off brings back (the same as `entries` without shuffle).
    pub unshuffled: Vec<usize>,
    pub repeat: Repeat,
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A track became audible, or was loaded paused.
    TrackStarted {
        entry_id: u64,
        track_id: i64,
        path: PathBuf,
        duration_ms: Option<u64>,
        paused: bool,
    },
    /// Where playback is, in milliseconds, a few times a second while playing and after a seek.
    Position {
        position_ms: u64,
    },
    Paused {
        position_ms: u64,
    },
    Resumed {
        position_ms: u64,
    },
    /// The current track waits for more of its file to arrive (a song still downloading)
    /// before it can open at `position_ms`: nothing plays meanwhile. A `Position` follows
    /// once it opens.
    Waiting {
        position_ms: u64,
    },
    /// Nothing plays any more: stopped, or the queue played out.
    Stopped,
    /// A track played to its end.
    TrackEnded {
        path: PathBuf,
    },
    /// The queue's contents, order, shuffle or repeat changed.
    QueueChanged(QueueSnapshot),
    /// A track could not be opened or broke mid-stream; the queue moves on past it.
    Error {
        path: Option<PathBuf>,
        message: String,
    },
    /// The volume is now this (0.0 to 1.0), whoever asked.
    VolumeChanged {
        volume: f32,
    },
    /// Playback moved to another output device: the one asked for, or the default after
    /// the device in use disappeared (`lost` says why; playback is then paused).
    OutputChanged {
        device: Option<String>,
        lost: Option<String>,
    },
}

/// A running playback engine. Dropping it shuts the engine thread down.
#[derive(Debug)]
pub struct Engine {
    remote: Remote,
    events: Receiver<Event>,
    thread: Option<JoinHandle<()>>,
}

impl Engine {
    /// Starts the engine thread. `make_output` runs on that thread, because the output
    /// (a cpal stream) may not be movable between threads.
    pub fn spawn<F>(make_output: F) -> Result<Engine, PlaybackError>
    where
        F: FnOnce() -> Result<Box<dyn AudioOutput>, PlaybackError> + Send + 'static,
    {
        Engine::spawn_with_queue(make_output, Queue::default())
    }

    /// [`Engine::spawn`] with a given (empty) queue, for tests that fix the shuffle seed.
    pub fn spawn_with_queue<F>(make_output: F, queue: Queue) -> Result<Engine, PlaybackError>
    where
        F: FnOnce() -> Result<Box<dyn AudioOutput>, PlaybackError> + Send + 'static,
    {
        let (commands, command_rx) = bounded(64);
        let (event_tx, events) = bounded(1024);
        let (ready_tx, ready_rx) = bounded(1);
        let thread = std::thread::Builder::new()
            .name("offbeat-playback".into())
            .spawn(move || match make_output() {
                Ok(output) => {
                    let _ = ready_tx.send(Ok(()));
                    EngineLoop::new(output, queue, command_rx, event_tx).run();
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| PlaybackError::Output(format!("cannot start the playback thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Engine {
                remote: Remote {
                    commands,
                    engine: thread.thread().clone(),
                },
                events,
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(PlaybackError::EngineGone),
        }
    }

    /// Sends a command; fails only if the engine thread has gone.
    pub fn send(&self, command: Command) -> Result<(), PlaybackError> {
        self.remote.send(command)
    }

    /// A handle that sends commands from elsewhere (another thread, a desktop integration).
    pub fn remote(&self) -> Remote {
        self.remote.clone()
    }

    /// The stream of events. Read it steadily: position events are dropped when it is full.
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }
}

/// Sends commands to an [`Engine`] from anywhere; see [`Engine::remote`].
#[derive(Debug, Clone)]
pub struct Remote {
    commands: Sender<Command>,
    /// The engine thread, woken when a command arrives (it sleeps parked between turns).
    engine: std::thread::Thread,
}

impl Remote {
    /// Sends a command; fails only if the engine has gone.
    pub fn send(&self, command: Command) -> Result<(), PlaybackError> {
        self.commands
            .send(command)
            .map_err(|_| PlaybackError::EngineGone)?;
        self.engine.unpark();
        Ok(())
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.remote.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A track with its own stream: the audible one, or the one decoded ahead to follow it.
struct Track {
    entry_id: u64,
    track_id: i64,
    path: PathBuf,
    replay_gain: ReplayGainTags,
    duration_ms: Option<u64>,
    decoder: Decoder,
    writer: StreamWriter,
    format: StreamFormat,
    /// A decoded block the stream had no room for yet.
    pending: Option<Vec<f32>>,
    decoder_done: bool,
    /// While the file (still arriving) lacks the next packet's bytes, and playing: how
    /// long since more of it came.
    starved: Option<Stall>,
    /// True once decoding it failed part-way (it plays what was decoded).
    broke: bool,
    /// The track position at which this stream starts (0, or a seek target).
    start_ms: u64,
    /// The stream's other end, until it is handed to the output.
    reader: Option<StreamReader>,
}

impl Track {
    /// The state the stream's two ends share.
    fn shared(&self) -> &StreamShared {
        self.writer.shared()
    }

    fn take_reader(&mut self) -> Option<StreamReader> {
        self.reader.take()
    }

    fn position_ms(&self) -> u64 {
        let frames = self.shared().played_samples() / u64::from(self.format.channels);
        self.start_ms + frames * 1000 / u64::from(self.format.sample_rate)
    }

    /// Decodes into the stream until it is full or the track is fully decoded. A decoding
    /// failure ends the track where it broke (what is in the stream still plays).
    fn fill(&mut self) -> Result<(), PlaybackError> {
        self.decode(false)
    }

    /// Decodes just enough to start playing (see [`StreamWriter::can_start`]); the engine's
    /// next turn fills the rest.
    fn fill_to_start(&mut self) -> Result<(), PlaybackError> {
        self.decode(true)
    }

    fn decode(&mut self, to_start: bool) -> Result<(), PlaybackError> {
        while !self.decoder_done {
            if to_start && self.writer.can_start() {
                break;
            }
            let block = match self.pending.take() {
                Some(block) => block,
                None => {
                    if self.waiting_for_bytes() {
                        // Still arriving: decode on once more has come, rather than wait
                        // inside a read while commands go unanswered.
                        let arrived = crate::arriving::arrived(&self.path);
                        let starved = self.starved.get_or_insert_with(|| Stall::new(arrived));
                        if starved.stalled(arrived) {
                            self.finish();
                            return Err(PlaybackError::Decode {
                                path: self.path.clone(),
                                source: crate::arriving::stalled().into(),
                            });
                        }
                        break;
                    }
                    self.starved = None;
                    let mut block = self.writer.block();
                    match self.decoder.next_chunk(&mut block) {
                        Ok(true) => block,
                        Ok(false) => {
                            self.finish();
                            break;
                        }
                        Err(e) => {
                            self.finish();
                            return Err(e);
                        }
                    }
                }
            };
            if let Err(block) = self.writer.push(block) {
                self.pending = Some(block);
                break;
            }
        }
        Ok(())
    }

    /// True while the file, still arriving, lacks the bytes to decode on (see
    /// [`Decoder::ready`]).
    fn waiting_for_bytes(&self) -> bool {
        !self.decoder_done && self.pending.is_none() && !self.decoder.ready()
    }

    fn finish(&mut self) {
        self.pending = None;
        self.decoder_done = true;
        self.shared().finish_writing();
    }
}

/// The queue's current entry, not opened yet: its file is still arriving, and opening it
/// now would wait inside a read while commands go unanswered (see
/// [`crate::arriving::can_open`]). It was announced (`TrackStarted`) when the wait began,
/// so the app shows what is coming; a seek's wait is not (the listen goes on). Either way
/// it is not announced again once it opens.
struct Waiting {
    position_ms: u64,
    /// How long since more of the file came, counted while playing: a slow download is
    /// waited for, and so is any while paused.
    stall: Stall,
}

struct EngineLoop {
    output: Box<dyn AudioOutput>,
    commands: Receiver<Command>,
    events: Sender<Event>,
    queue: Queue,
    /// The audible track first, then (once its decoder is done) the one that follows.
    tracks: VecDeque<Track>,
    /// The current entry, when it waits for its file to arrive (`tracks` is then empty).
    waiting: Option<Waiting>,
    /// The track to follow the audible one has been looked for (found or not): looking
    /// again waits for a change (a new audible track, a seek, a queue change).
    next_prepared: bool,
    /// Where looking for the track to follow the audible one stopped, at an entry whose
    /// file is still arriving with too little to open: the queue as that search left it
    /// (a copy, moved on to that entry). Later turns look at that entry alone, rather than
    /// copy the queue and report the entries before it that could not be opened again;
    /// and it starts as soon as it can once the audible track ends.
    next_waiting: Option<Queue>,
    /// Entries the look-ahead could not open and has reported: it tries them again (the
    /// file may come back) whenever what follows is looked for anew, after any queue
    /// change, but says so only once.
    unopenable: HashSet<u64>,
    paused: bool,
    volume: f32,
    replay_gain: ReplayGainSettings,
    last_position_event: Instant,
}

impl EngineLoop {
    fn new(
        output: Box<dyn AudioOutput>,
        queue: Queue,
        commands: Receiver<Command>,
        events: Sender<Event>,
    ) -> EngineLoop {
        EngineLoop {
            output,
            commands,
            events,
            queue,
            tracks: VecDeque::new(),
            waiting: None,
            next_prepared: false,
            next_waiting: None,
            unopenable: HashSet::new(),
            paused: false,
            volume: 1.0,
            replay_gain: ReplayGainSettings::default(),
            last_position_event: Instant::now(),
        }
    }

    fn run(mut self) {
        loop {
            // Parked rather than in the channel's receive, which spins and yields the
            // processor several times before it sleeps: between bursts of decoding that
            // costs more than the waits are worth. A sender unparks the thread after
            // sending, and a stream's reader when what `sleep` asked for happens.
            let next = match self.commands.try_recv() {
                Err(TryRecvError::Empty) => {
                    self.sleep();
                    self.commands.try_recv()
                }
                received => received,
            };
            match next {
                Ok(Command::Shutdown) | Err(TryRecvError::Disconnected) => break,
                Ok(command) => self.handle(command),
                Err(TryRecvError::Empty) => {}
            }
            self.fill();
            self.report_progress();
            self.check_output();
        }
        self.output.stop();
    }

    /// Sleeps until the engine is needed: the first stream still being decoded is half
    /// empty, or the audible track has played out (the next one has started), or a
    /// position event is due. The output's reader wakes it for the first two, so it
    /// neither polls a real-time device a hundred times a second for nothing nor leaves
    /// a faster output starving between beats; each sleep costs more than its wake, as
    /// the processor's caches go cold while it idles. Does not sleep at all when a
    /// stream is half empty already (a start, a seek, a slow disk).
    fn sleep(&self) {
        if self.waiting.is_some() {
            // Nobody says when more of the file arrives.
            std::thread::park_timeout(ARRIVING_POLL);
            return;
        }
        if self.paused || self.tracks.is_empty() {
            std::thread::park_timeout(IDLE_WAIT);
            return;
        }
        if self.next_to_prepare() && self.next_waiting.is_none() {
            // What follows the audible track is still to be opened (it has just become
            // audible): now, as it may be short enough to end before a sleep would.
            return;
        }
        let mut asked = Vec::with_capacity(2);
        let mut starved = false;
        for (i, track) in self.tracks.iter().enumerate() {
            if !track.decoder_done {
                // A file still arriving without the next packet's bytes: room in the
                // stream is no use until they come, and nobody says when they do.
                starved = track.waiting_for_bytes();
                if !starved {
                    track.shared().ask_wake(Wake::HalfEmpty);
                    asked.push(track);
                }
                break;
            }
            if i == 0 {
                track.shared().ask_wake(Wake::Drained);
                asked.push(track);
            }
        }
        // Asked first, checked after: what happened in between is seen here, and what
        // happens after wakes the thread (an unpark before the park makes it return).
        let needed = asked.iter().any(|t| {
            if t.decoder_done {
                t.shared().is_drained()
            } else {
                t.writer.half_empty()
            }
        });
        if !needed {
            let mut due = POSITION_INTERVAL.saturating_sub(self.last_position_event.elapsed());
            if starved {
                due = due.min(ARRIVING_POLL);
            }
            std::thread::park_timeout(due.max(Duration::from_millis(1)));
        }
        for t in asked {
            t.shared().cancel_wake();
        }
    }

    /// If the device disappeared: pause, move to the default device, and say so.
    fn check_output(&mut self) {
        let Some(why) = self.output.take_failure() else {
            return;
        };
        let position_ms = self.tracks.front().map(Track::position_ms);
        self.paused = true;
        let fallback = self.output.switch_device(None);
        self.tracks.clear();
        self.emit(Event::OutputChanged {
            device: None,
            lost: Some(why),
        });
        if let Err(e) = fallback {
            self.emit(Event::Error {
                path: None,
                message: e.describe(),
            });
            self.emit(Event::Stopped);
            return;
        }
        if let Some(position_ms) = position_ms {
            // The same track goes on (not announced again: to the listening history a
            // new TrackStarted would be a new play, and this one a skip).
            self.start_entry(position_ms, false, None);
            self.emit(Event::Paused { position_ms });
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Play(path) => {
                let track = QueueTrack {
                    track_id: 0,
                    path,
                    replay_gain: ReplayGainTags::default(),
                };
                self.queue.set(vec![track], 0);
                self.paused = false;
                self.start_current(0);
            }
            Command::SetQueue {
                tracks,
                start,
                position_ms,
                paused,
            } => {
                self.queue.set(tracks, start);
                self.paused = paused;
                self.start_current(position_ms);
            }
            Command::Restore {
                tracks,
                start,
                position_ms,
                shuffle,
                unshuffled,
                repeat,
            } => {
                self.queue.restore(tracks, start, shuffle, &unshuffled);
                self.queue.set_repeat(repeat);
                self.paused = true;
                self.start_current(position_ms);
            }
            Command::PlayNext(tracks) => {
                let was_empty = self.queue.is_empty();
                self.queue.play_next(tracks);
                self.added(was_empty);
            }
            Command::Append(tracks) => {
                let was_empty = self.queue.is_empty();
                self.queue.append(tracks);
                self.added(was_empty);
            }
            Command::Remove(entry_ids) => match self.queue.remove(&entry_ids) {
                Removed::NotCurrent => self.queue_changed(),
                Removed::CurrentNowNext => self.start_current(0),
                Removed::CurrentWasLast => {
                    self.stop_all();
                    self.queue_changed();
                }
            },
            Command::Move { entry_id, to } => {
                self.queue.move_entry(entry_id, to);
                self.queue_changed();
            }
            Command::Clear => {
                self.queue.clear();
                self.stop_all();
                self.queue_changed();
            }
            Command::Jump(entry_id) => {
                if self.queue.jump(entry_id).is_some() {
                    self.paused = false;
                    self.start_current(0);
                }
            }
            Command::Next => {
                if self.queue.skip_forward().is_some() {
                    self.start_current(0);
                } else {
                    self.stop_all();
                }
            }
            Command::Previous => {
                let position_ms = self.tracks.front().map_or(0, Track::position_ms);
                if self.queue.previous(position_ms).is_some() || self.tracks.is_empty() {
                    self.start_current(0);
                } else {
                    self.seek(0);
                }
            }
            Command::SetShuffle(on) => {
                self.queue.set_shuffle(on);
                self.queue_changed();
            }
            Command::SetRepeat(repeat) => {
                self.queue.set_repeat(repeat);
                self.queue_changed();
            }
            Command::SetReplayGain(settings) => {
                self.replay_gain = settings;
                for t in &self.tracks {
                    t.shared()
                        .set_track_gain(self.replay_gain.linear_gain(&t.replay_gain));
                }
            }
            Command::Pause => {
                if !self.paused {
                    self.paused = true;
                    self.set_paused(true);
                    if let Some(position_ms) = self.position_ms() {
                        self.emit(Event::Paused { position_ms });
                    }
                }
            }
            Command::Resume => {
                if self.tracks.is_empty()
                    && self.waiting.is_none()
                    && self.queue.current().is_some()
                {
                    // After the queue played out (or a stop), play resumes at the start.
                    self.paused = false;
                    self.start_current(0);
                } else if self.paused {
                    self.paused = false;
                    self.set_paused(false);
                    if let Some(position_ms) = self.position_ms() {
                        self.emit(Event::Resumed { position_ms });
                    }
                }
            }
            Command::Stop => {
                if !self.tracks.is_empty() || self.waiting.is_some() {
                    self.stop_all();
                }
            }
            Command::Seek(position_ms) => self.seek(position_ms),
            Command::SetOutputDevice(device) => {
                let position_ms = self.tracks.front().map(Track::position_ms);
                match self.output.switch_device(device.as_deref()) {
                    Ok(()) => {
                        self.tracks.clear();
                        self.emit(Event::OutputChanged { device, lost: None });
                        if let Some(position_ms) = position_ms {
                            // The same track goes on, as after a lost device.
                            self.start_entry(position_ms, false, None);
                        }
                    }
                    Err(e) => self.emit(Event::Error {
                        path: None,
                        message: e.describe(),
                    }),
                }
            }
            // Not a number: nothing to set (`clamp` would pass it on to the gain).
            Command::SetVolume(volume) if volume.is_nan() => {}
            Command::SetVolume(volume) => {
                self.volume = volume.clamp(0.0, 1.0);
                for t in &self.tracks {
                    t.shared().set_gain(gain(self.volume));
                }
                self.emit(Event::VolumeChanged {
                    volume: self.volume,
                });
            }
            Command::Shutdown => {}
        }
    }

    fn first_entry_id(&self) -> Option<u64> {
        self.queue.entries_in_order().first().map(|e| e.entry_id)
    }

    fn set_paused(&self, paused: bool) {
        for t in &self.tracks {
            t.shared().set_paused(paused);
        }
    }

    /// Where the current entry is: the audible track's position, or where a track waiting
    /// for its file will start.
    fn position_ms(&self) -> Option<u64> {
        self.tracks
            .front()
            .map(Track::position_ms)
            .or(self.waiting.as_ref().map(|w| w.position_ms))
    }

    /// Stops the output and forgets the open tracks.
    fn stop_all(&mut self) {
        for t in self.tracks.drain(..) {
            t.shared().stop();
        }
        self.waiting = None;
        self.forget_next();
        self.output.stop();
        self.emit(Event::Stopped);
    }

    /// Plays the queue's current entry from `position_ms` (paused if the engine is),
    /// replacing whatever plays. An entry that cannot be opened is reported and the queue
    /// moves on, until one opens or the queue ends.
    fn start_current(&mut self, position_ms: u64) {
        self.start_entry(position_ms, true, None);
    }

    /// [`Self::start_current`], saying `TrackStarted` only if `announce`. An entry whose
    /// file is still arriving and cannot be opened yet waits (see [`Waiting`]), its wait
    /// counted on from `waited` if it has waited already; after [`crate::arriving::STALL`]
    /// with nothing more of it, it counts as one that cannot be opened.
    fn start_entry(&mut self, mut position_ms: u64, mut announce: bool, mut waited: Option<Stall>) {
        for t in self.tracks.drain(..) {
            t.shared().stop();
        }
        self.waiting = None;
        self.forget_next();
        self.output.stop();
        let mut attempts = self.queue.len();
        loop {
            let Some(entry) = self.queue.current().cloned() else {
                self.queue_changed();
                self.emit(Event::Stopped);
                return;
            };
            let opened = if crate::arriving::can_open(&entry.track.path, position_ms == 0) {
                self.open(&entry, position_ms)
            } else {
                let arrived = crate::arriving::arrived(&entry.track.path);
                let mut stall = waited.unwrap_or_else(|| Stall::new(arrived));
                if !stall.stalled(arrived) {
                    self.waiting = Some(Waiting { position_ms, stall });
                    if announce {
                        // Duration unknown until it opens (the app has the library's).
                        self.emit(Event::TrackStarted {
                            entry_id: entry.entry_id,
                            track_id: entry.track.track_id,
                            path: entry.track.path.clone(),
                            duration_ms: None,
                            paused: self.paused,
                        });
                        self.queue_changed();
                    }
                    self.emit(Event::Waiting { position_ms });
                    return;
                }
                Err(PlaybackError::Open {
                    path: entry.track.path.clone(),
                    source: crate::arriving::stalled(),
                })
            };
            match opened {
                Ok(mut track) => {
                    let _ = track
                        .fill_to_start()
                        .map_err(|e| self.report(&entry.track.path, &e));
                    let reader = track.take_reader();
                    let started = Event::TrackStarted {
                        entry_id: entry.entry_id,
                        track_id: entry.track.track_id,
                        path: entry.track.path.clone(),
                        duration_ms: track.duration_ms,
                        paused: self.paused,
                    };
                    let start_ms = track.start_ms;
                    self.tracks.push_back(track);
                    if let Some(reader) = reader {
                        if let Err(e) = self.output.play(reader) {
                            // The output took nothing: say so, and that nothing plays.
                            self.tracks.clear();
                            self.report(&entry.track.path, &e);
                            self.emit(Event::Stopped);
                            self.queue_changed();
                            return;
                        }
                    }
                    if announce {
                        self.emit(started);
                        self.queue_changed();
                    }
                    if start_ms > 0 || !announce {
                        self.emit(Event::Position {
                            position_ms: start_ms,
                        });
                    }
                    return;
                }
                Err(e) => {
                    self.report(&entry.track.path, &e);
                    position_ms = 0;
                    announce = true;
                    waited = None;
                    attempts = attempts.saturating_sub(1);
                    if attempts == 0 || self.queue.skip_forward().is_none() {
                        self.queue_changed();
                        self.emit(Event::Stopped);
                        return;
                    }
                }
            }
        }
    }

    /// Opens the entry waiting for its file once enough of it has arrived, or gives up on
    /// it after [`crate::arriving::STALL`] with nothing more (counted while playing).
    fn open_waiting(&mut self) {
        let Some(waiting) = self.waiting.as_mut() else {
            return;
        };
        let Some(path) = self.queue.current().map(|e| e.track.path.as_path()) else {
            self.waiting = None;
            return;
        };
        let arrived = crate::arriving::arrived(path);
        if self.paused {
            waiting.stall = Stall::new(arrived);
        }
        let stalled = waiting.stall.stalled(arrived);
        if stalled || crate::arriving::can_open(path, waiting.position_ms == 0) {
            let (position_ms, stall) = (waiting.position_ms, waiting.stall);
            self.start_entry(position_ms, false, Some(stall));
        }
    }

    /// Opens an entry's file at `position_ms`, with a stream ready to fill.
    fn open(&self, entry: &QueueEntry, position_ms: u64) -> Result<Track, PlaybackError> {
        let mut decoder = Decoder::open(&entry.track.path)?;
        let start_ms = if position_ms > 0 {
            decoder.seek(position_ms)?
        } else {
            0
        };
        let format = decoder.format();
        let (writer, reader) = self.new_stream(format, &entry.track.replay_gain);
        Ok(Track {
            entry_id: entry.entry_id,
            track_id: entry.track.track_id,
            path: entry.track.path.clone(),
            replay_gain: entry.track.replay_gain,
            duration_ms: decoder.duration_ms(),
            decoder,
            writer,
            format,
            pending: None,
            decoder_done: false,
            starved: None,
            broke: false,
            start_ms,
            reader: Some(reader),
        })
    }

    /// A new stream for a track: at the current volume and pause state, with the track's
    /// ReplayGain.
    fn new_stream(
        &self,
        format: StreamFormat,
        replay_gain: &ReplayGainTags,
    ) -> (StreamWriter, StreamReader) {
        let shared = StreamShared::new(gain(self.volume), self.paused, std::thread::current());
        shared.set_track_gain(self.replay_gain.linear_gain(replay_gain));
        stream(format, shared)
    }

    fn seek(&mut self, position_ms: u64) {
        let Some(mut front) = self.tracks.pop_front() else {
            if let Some(waiting) = self.waiting.as_mut() {
                // Not opened yet: it will start there.
                waiting.position_ms = position_ms;
                self.emit(Event::Position { position_ms });
                self.emit(Event::Waiting { position_ms });
            }
            return;
        };
        for t in self.tracks.drain(..) {
            t.shared().stop();
        }
        self.forget_next();
        front.shared().stop();
        self.output.stop();
        if !front.decoder.whole() {
            // Still arriving: finding the position could wait inside a read. The track
            // is opened there again once all of it has come.
            self.waiting = Some(Waiting {
                position_ms,
                stall: Stall::new(crate::arriving::arrived(&front.path)),
            });
            self.emit(Event::Position { position_ms });
            self.emit(Event::Waiting { position_ms });
            return;
        }
        let reached_ms = match front.decoder.seek(position_ms) {
            Ok(ms) => ms,
            Err(e) => {
                self.report(&front.path, &e);
                self.emit(Event::Stopped);
                return;
            }
        };
        let (writer, reader) = self.new_stream(front.format, &front.replay_gain);
        let mut track = Track {
            writer,
            pending: None,
            decoder_done: false,
            starved: None,
            broke: false,
            start_ms: reached_ms,
            reader: None,
            ..front
        };
        let path = track.path.clone();
        let _ = track.fill_to_start().map_err(|e| self.report(&path, &e));
        self.tracks.push_back(track);
        if let Err(e) = self.output.play(reader) {
            self.tracks.clear();
            self.report(&path, &e);
            self.emit(Event::Stopped);
            return;
        }
        self.emit(Event::Position {
            position_ms: reached_ms,
        });
    }

    /// After entries were added: into an empty queue, what was added starts playing.
    fn added(&mut self, was_empty: bool) {
        if was_empty {
            self.queue.jump(self.first_entry_id().unwrap_or_default());
            self.start_current(0);
        } else {
            self.queue_changed();
        }
    }

    /// Tops up the streams; once the audible track is fully decoded, opens the entry that
    /// follows it and queues it on the output.
    fn fill(&mut self) {
        self.open_waiting();
        for i in 0..self.tracks.len() {
            if self.paused {
                // A song still arriving is not given up on while nobody is listening.
                self.tracks[i].starved = None;
            }
            if let Err(e) = self.tracks[i].fill() {
                self.tracks[i].broke = true;
                let path = self.tracks[i].path.clone();
                self.report(&path, &e);
            }
        }
        if self.next_to_prepare() {
            self.prepare_next();
        }
    }

    /// True when the audible track is fully decoded and what follows it is still to be
    /// looked for.
    fn next_to_prepare(&self) -> bool {
        self.tracks.len() == 1 && self.tracks[0].decoder_done && !self.next_prepared
    }

    /// Opens the entry that will follow the audible one, skipping (and reporting) any that
    /// cannot be opened, and queues it on the output.
    fn prepare_next(&mut self) {
        self.next_prepared = true;
        let (mut ahead, mut entry) = match self.next_waiting.take() {
            // The search stopped last time at an entry still arriving: on from there.
            Some(ahead) => {
                let entry = ahead.current().cloned();
                (ahead, entry)
            }
            None => {
                let mut ahead = self.queue.clone();
                // Repeat one plays the track again, unless it broke: then, as for any
                // entry that fails, playback goes on with the next.
                let entry = if self.tracks.front().is_some_and(|t| t.broke) {
                    ahead.skip_forward().cloned()
                } else {
                    ahead.advance_after_end().cloned()
                };
                (ahead, entry)
            }
        };
        let mut attempts = self.queue.len();
        while attempts > 0 {
            attempts -= 1;
            // Nothing can follow: the audible track is the last.
            let Some(next) = entry else {
                return;
            };
            if !crate::arriving::can_open(&next.track.path, true) {
                // Still arriving, too little to open without waiting: looked at again on
                // a later turn, or opened when it becomes the audible one.
                self.next_prepared = false;
                self.next_waiting = Some(ahead);
                return;
            }
            match self.open(&next, 0) {
                Ok(mut track) => {
                    self.unopenable.remove(&next.entry_id);
                    let _ = track.fill().map_err(|e| self.report(&next.track.path, &e));
                    if let Some(reader) = track.take_reader() {
                        if let Err(e) = self.output.append(reader) {
                            self.report(&next.track.path, &e);
                            return;
                        }
                    }
                    self.tracks.push_back(track);
                    return;
                }
                Err(e) => {
                    if self.unopenable.insert(next.entry_id) {
                        self.report(&next.track.path, &e);
                    }
                }
            }
            // Past an entry that cannot be opened, even under repeat one.
            entry = ahead.skip_forward().cloned();
        }
    }

    /// Forgets what was found to follow the audible track, after a change to the queue or
    /// to what plays: the next turn looks again.
    fn forget_next(&mut self) {
        self.next_prepared = false;
        self.next_waiting = None;
    }

    /// After a change to the queue: drops the track decoded ahead if it no longer follows,
    /// and tells the UI.
    fn queue_changed(&mut self) {
        if self.tracks.len() > 1 {
            let follows = self.queue.peek_after_end().map(|e| e.entry_id);
            if follows != Some(self.tracks[1].entry_id) {
                for t in self.tracks.drain(1..) {
                    t.shared().stop();
                }
                self.forget_next();
            }
        } else {
            // What follows may have changed (tracks added or moved, repeat turned on):
            // look again.
            self.forget_next();
        }
        let snapshot = QueueSnapshot {
            entries: self.queue.entries_in_order().into_iter().cloned().collect(),
            current: self.queue.current_index(),
            shuffle: self.queue.shuffle(),
            unshuffled: self.queue.unshuffled(),
            repeat: self.queue.repeat(),
        };
        self.emit(Event::QueueChanged(snapshot));
    }

    fn report_progress(&mut self) {
        let Some(front) = self.tracks.front() else {
            return;
        };
        if front.decoder_done && front.shared().is_drained() {
            let ended = self
                .tracks
                .pop_front()
                .map(|t| (t.path.clone(), t.position_ms()));
            if let Some((path, position_ms)) = ended {
                self.emit(Event::Position { position_ms });
                self.emit(Event::TrackEnded { path });
            }
            match self.tracks.front() {
                Some(next) => {
                    // The output has moved on to the track decoded ahead: so does the queue.
                    let (entry_id, track_id, path, duration_ms) = (
                        next.entry_id,
                        next.track_id,
                        next.path.clone(),
                        next.duration_ms,
                    );
                    self.advance_to(entry_id);
                    self.forget_next();
                    self.last_position_event = Instant::now();
                    self.emit(Event::TrackStarted {
                        entry_id,
                        track_id,
                        path,
                        duration_ms,
                        paused: false,
                    });
                    self.queue_changed();
                }
                None => {
                    self.next_prepared = false;
                    let waiting = self.next_waiting.take();
                    match waiting
                        .as_ref()
                        .and_then(Queue::current)
                        .map(|e| e.entry_id)
                    {
                        // What follows was still arriving, too little to open ahead: it
                        // starts as soon as it can (see `Waiting`).
                        Some(entry_id) if self.advance_to(entry_id) => self.start_current(0),
                        _ => {
                            // The queue played out; its last entry stays current.
                            self.output.stop();
                            self.emit(Event::Stopped);
                            self.queue_changed();
                        }
                    }
                }
            }
            return;
        }
        if !self.paused && self.last_position_event.elapsed() >= POSITION_INTERVAL {
            let position_ms = front.position_ms();
            self.last_position_event = Instant::now();
            // Position updates are disposable: drop one rather than block on a slow reader.
            let _ = self.events.try_send(Event::Position { position_ms });
        }
    }

    /// Moves the queue on, as tracks end, until `entry_id` is current; false if it never
    /// comes (the queue changed).
    fn advance_to(&mut self, entry_id: u64) -> bool {
        let mut guard = self.queue.len() + 1;
        while guard > 0 && self.queue.current().map(|e| e.entry_id) != Some(entry_id) {
            guard -= 1;
            if self.queue.advance_after_end().is_none() {
                break;
            }
        }
        self.queue.current().map(|e| e.entry_id) == Some(entry_id)
    }

    fn report(&self, path: &std::path::Path, error: &PlaybackError) {
        self.emit(Event::Error {
            path: Some(path.to_path_buf()),
            message: error.describe(),
        });
    }

    fn emit(&self, event: Event) {
        // Important events wait briefly for room; if the receiver is gone, nobody listens.
        let _ = self.events.send_timeout(event, Duration::from_secs(1));
    }
}

/// Maps the volume control (0..=1) to a linear gain on a perceptual curve: loudness
/// follows the logarithm of amplitude, so the control spans 40 dB evenly in decibels
/// (full = 0 dB, half-way = -20 dB), and 0 is silence.
pub fn gain(volume: f32) -> f32 {
    const RANGE_DB: f32 = 40.0;
    let v = volume.clamp(0.0, 1.0);
    if v <= 0.0 {
        0.0
    } else {
        10f32.powf(RANGE_DB * (v - 1.0) / 20.0)
    }
}
