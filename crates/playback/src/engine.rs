//! The engine: a thread that owns the decoder and the output, driven by [`Command`]s and
//! reporting [`Event`]s, both over bounded channels.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::stream::{stream, StreamShared};
use crate::{AudioOutput, Decoder, PlaybackError, StreamFormat};

/// How often position events are sent while playing.
const POSITION_INTERVAL: Duration = Duration::from_millis(200);
/// How long the engine sleeps when the ring is full or nothing is playing.
const IDLE_WAIT: Duration = Duration::from_millis(10);

/// What the engine can be asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Open a file and play it from the start, replacing the current track.
    Play(PathBuf),
    Pause,
    Resume,
    Stop,
    /// Jump to a position in the current track, in milliseconds.
    Seek(u64),
    /// Set the volume, 0.0 (silent) to 1.0 (full).
    SetVolume(f32),
    Shutdown,
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    TrackStarted {
        path: PathBuf,
        duration_ms: Option<u64>,
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
    Stopped,
    /// The track played to its end.
    TrackEnded {
        path: PathBuf,
    },
    /// A track could not be opened or broke mid-stream. Playback of it has stopped.
    Error {
        path: Option<PathBuf>,
        message: String,
    },
}

/// A running playback engine. Dropping it shuts the engine thread down.
#[derive(Debug)]
pub struct Engine {
    commands: Sender<Command>,
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
        let (commands, command_rx) = bounded(64);
        let (event_tx, events) = bounded(1024);
        let (ready_tx, ready_rx) = bounded(1);
        let thread = std::thread::Builder::new()
            .name("offbeat-playback".into())
            .spawn(move || match make_output() {
                Ok(output) => {
                    let _ = ready_tx.send(Ok(()));
                    EngineLoop::new(output, command_rx, event_tx).run();
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| PlaybackError::Output(format!("cannot start the playback thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Engine {
                commands,
                events,
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(PlaybackError::EngineGone),
        }
    }

    /// Sends a command; fails only if the engine thread has gone.
    pub fn send(&self, command: Command) -> Result<(), PlaybackError> {
        self.commands
            .send(command)
            .map_err(|_| PlaybackError::EngineGone)
    }

    /// The stream of events. Read it steadily: position events are dropped when it is full.
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The track being played.
struct Current {
    path: PathBuf,
    decoder: Decoder,
    producer: rtrb::Producer<f32>,
    shared: Arc<StreamShared>,
    format: StreamFormat,
    /// Decoded samples not yet in the ring.
    pending: Vec<f32>,
    pending_from: usize,
    decoder_done: bool,
    /// The track position at which the current stream started (0, or a seek target).
    stream_start_ms: u64,
    paused: bool,
}

impl Current {
    fn position_ms(&self) -> u64 {
        let frames = self.shared.played_samples() / u64::from(self.format.channels);
        self.stream_start_ms + frames * 1000 / u64::from(self.format.sample_rate)
    }
}

struct EngineLoop {
    output: Box<dyn AudioOutput>,
    commands: Receiver<Command>,
    events: Sender<Event>,
    current: Option<Current>,
    volume: f32,
    last_position_event: Instant,
}

impl EngineLoop {
    fn new(
        output: Box<dyn AudioOutput>,
        commands: Receiver<Command>,
        events: Sender<Event>,
    ) -> EngineLoop {
        EngineLoop {
            output,
            commands,
            events,
            current: None,
            volume: 1.0,
            last_position_event: Instant::now(),
        }
    }

    fn run(mut self) {
        loop {
            // Each turn tops the ring up, so waiting a little between turns is free; only a
            // ring that is more than half empty (a start, a seek, a slow disk) is worth
            // skipping the wait for. Spinning on a nearly full ring would burn a core.
            let busy = self.current.as_ref().is_some_and(|c| {
                !c.paused
                    && !c.decoder_done
                    && c.producer.slots() * 2 > c.producer.buffer().capacity()
            });
            let wait = if busy { Duration::ZERO } else { IDLE_WAIT };
            match self.commands.recv_timeout(wait) {
                Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(command) => self.handle(command),
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.fill();
            self.report_progress();
        }
        self.output.stop();
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Play(path) => self.play(path),
            Command::Pause => {
                if let Some(c) = self.current.as_mut().filter(|c| !c.paused) {
                    c.paused = true;
                    c.shared.set_paused(true);
                    let position_ms = c.position_ms();
                    self.emit(Event::Paused { position_ms });
                }
            }
            Command::Resume => {
                if let Some(c) = self.current.as_mut().filter(|c| c.paused) {
                    c.paused = false;
                    c.shared.set_paused(false);
                    let position_ms = c.position_ms();
                    self.emit(Event::Resumed { position_ms });
                }
            }
            Command::Stop => {
                if let Some(c) = self.current.take() {
                    c.shared.stop();
                    self.output.stop();
                    self.emit(Event::Stopped);
                }
            }
            Command::Seek(position_ms) => self.seek(position_ms),
            Command::SetVolume(volume) => {
                self.volume = volume.clamp(0.0, 1.0);
                if let Some(c) = &self.current {
                    c.shared.set_gain(gain(self.volume));
                }
            }
            Command::Shutdown => {}
        }
    }

    fn play(&mut self, path: PathBuf) {
        self.output.stop();
        self.current = None;
        let decoder = match Decoder::open(&path) {
            Ok(decoder) => decoder,
            Err(e) => return self.fail(Some(path), &e),
        };
        let duration_ms = decoder.duration_ms();
        if let Err(e) = self.start_stream(path.clone(), decoder, 0, false) {
            return self.fail(Some(path), &e);
        }
        self.emit(Event::TrackStarted { path, duration_ms });
    }

    fn start_stream(
        &mut self,
        path: PathBuf,
        decoder: Decoder,
        start_ms: u64,
        paused: bool,
    ) -> Result<(), PlaybackError> {
        let format = decoder.format();
        let shared = StreamShared::new(gain(self.volume), paused);
        let (producer, reader) = stream(format, shared.clone());
        self.current = Some(Current {
            path,
            decoder,
            producer,
            shared,
            format,
            pending: Vec::new(),
            pending_from: 0,
            decoder_done: false,
            stream_start_ms: start_ms,
            paused,
        });
        // Fill the ring before the output starts pulling, so playback starts without an underrun.
        self.fill();
        self.output.play(reader)
    }

    fn seek(&mut self, position_ms: u64) {
        let Some(mut current) = self.current.take() else {
            return;
        };
        self.output.stop();
        match current.decoder.seek(position_ms) {
            Ok(reached_ms) => {
                let Current {
                    path,
                    decoder,
                    paused,
                    ..
                } = current;
                if let Err(e) = self.start_stream(path.clone(), decoder, reached_ms, paused) {
                    return self.fail(Some(path), &e);
                }
                self.emit(Event::Position {
                    position_ms: reached_ms,
                });
            }
            Err(e) => {
                current.shared.stop();
                self.fail(Some(current.path), &e);
            }
        }
    }

    /// Moves decoded audio into the ring until it is full or the track is fully decoded.
    fn fill(&mut self) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        let channels = usize::from(c.format.channels);
        let mut failure = None;
        while !c.decoder_done {
            if c.pending_from >= c.pending.len() {
                c.pending_from = 0;
                match c.decoder.next_chunk(&mut c.pending) {
                    Ok(true) => {}
                    Ok(false) => {
                        c.pending.clear();
                        c.decoder_done = true;
                        c.shared.finish_writing();
                        break;
                    }
                    Err(e) => {
                        c.pending.clear();
                        failure = Some(e);
                        break;
                    }
                }
            }
            // Whole frames only, so the reader never sees half a frame.
            let free = c.producer.slots() / channels * channels;
            let n = free.min(c.pending.len() - c.pending_from);
            if n == 0 {
                break;
            }
            if let Ok(chunk) = c.producer.write_chunk_uninit(n) {
                chunk.fill_from_iter(
                    c.pending[c.pending_from..c.pending_from + n]
                        .iter()
                        .copied(),
                );
                c.pending_from += n;
            }
        }
        if let Some(e) = failure {
            // A broken file is reported and stopped at once rather than played out from the
            // ring, so the failure is heard where it happened.
            let path = c.path.clone();
            c.shared.finish_writing();
            self.fail(Some(path), &e);
        }
    }

    fn report_progress(&mut self) {
        let Some(c) = &self.current else { return };
        if c.decoder_done && c.shared.is_drained() {
            let path = c.path.clone();
            let position_ms = c.position_ms();
            self.current = None;
            self.output.stop();
            self.emit(Event::Position { position_ms });
            self.emit(Event::TrackEnded { path });
            return;
        }
        if !c.paused && self.last_position_event.elapsed() >= POSITION_INTERVAL {
            let position_ms = c.position_ms();
            self.last_position_event = Instant::now();
            // Position updates are disposable: drop one rather than block on a slow reader.
            let _ = self.events.try_send(Event::Position { position_ms });
        }
    }

    fn fail(&mut self, path: Option<PathBuf>, error: &PlaybackError) {
        self.current = None;
        self.output.stop();
        self.emit(Event::Error {
            path,
            message: error.describe(),
        });
    }

    fn emit(&self, event: Event) {
        // Important events wait briefly for room; if the receiver is gone, nobody listens.
        let _ = self.events.send_timeout(event, Duration::from_secs(1));
    }
}

/// Maps the volume control (0..=1) to a linear gain on a perceptual curve: loudness is
/// roughly logarithmic in amplitude, and a squared curve spreads the control's travel far
/// more evenly than a linear one does.
pub fn gain(volume: f32) -> f32 {
    let v = volume.clamp(0.0, 1.0);
    v * v
}
