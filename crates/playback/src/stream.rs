//! The hand-off between the engine thread (producer) and an audio output (consumer):
//! blocks of interleaved `f32` samples, each what one packet decoded to, passed through a
//! lock-free ring and handed back through another to be decoded into again, plus a few
//! atomics.
//!
//! The decoder writes each packet straight into a block, and the block itself is passed
//! on: no sample is copied between the decoder and the output. The blocks reused are the
//! ones most recently played, which are still in the processor's caches.
//!
//! The consumer side ([`StreamReader`]) runs inside the audio callback, so it never
//! allocates, locks or blocks: on underrun it plays silence, and pause and stop take effect
//! at frame boundaries so channels never slip.

use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::Thread;

/// Sample rate and channel count of a stream of interleaved samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamFormat {
    pub sample_rate: u32,
    pub channels: u16,
}

/// What the engine, asleep, wants to be woken for by the reader of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Wake {
    /// The stream is half empty: time to decode more.
    HalfEmpty = 1,
    /// The stream has played out: the next track has started.
    Drained = 2,
}

/// Nothing asked.
const WAKE_NONE: u8 = 0;

/// State both sides of a stream see.
#[derive(Debug)]
pub(crate) struct StreamShared {
    /// Samples handed to the output so far (silence from pause or underrun excluded).
    played_samples: AtomicU64,
    /// Samples written and not yet played: the fill level, against the stream's capacity.
    queued: AtomicUsize,
    /// Set by the engine when the decoder has produced its last sample.
    finished_writing: AtomicBool,
    /// Set by the reader once every written sample has been played.
    drained: AtomicBool,
    paused: AtomicBool,
    /// Set to end the stream early; the reader then reports the end.
    stopped: AtomicBool,
    /// Linear gain as `f32` bits: the volume.
    gain: AtomicU32,
    /// Linear gain as `f32` bits: this track's ReplayGain.
    track_gain: AtomicU32,
    /// A [`Wake`] the engine asked for before it went to sleep, or [`WAKE_NONE`].
    wake: AtomicU8,
    /// The engine's thread, which the reader unparks.
    engine: Thread,
}

impl StreamShared {
    /// Shared state for a stream whose engine runs on `engine`.
    pub(crate) fn new(gain: f32, paused: bool, engine: Thread) -> Arc<StreamShared> {
        Arc::new(StreamShared {
            played_samples: AtomicU64::new(0),
            queued: AtomicUsize::new(0),
            finished_writing: AtomicBool::new(false),
            drained: AtomicBool::new(false),
            paused: AtomicBool::new(paused),
            stopped: AtomicBool::new(false),
            gain: AtomicU32::new(gain.to_bits()),
            track_gain: AtomicU32::new(1.0f32.to_bits()),
            wake: AtomicU8::new(WAKE_NONE),
            engine,
        })
    }

    /// Asks the reader to unpark the engine's thread when `wake` happens. The engine
    /// checks for it itself after asking (see [`StreamShared::wake_asked`]), so a wake
    /// that happened just before the request is not missed.
    pub(crate) fn ask_wake(&self, wake: Wake) {
        self.wake.store(wake as u8, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// Withdraws a wake request (the engine found it had already happened, or woke).
    pub(crate) fn cancel_wake(&self) {
        self.wake.store(WAKE_NONE, Ordering::SeqCst);
    }

    #[cfg(test)]
    fn wake_asked(&self) -> bool {
        self.wake.load(Ordering::SeqCst) != WAKE_NONE
    }

    /// Called by the reader after it takes from the stream or ends: unparks the engine if
    /// it asked for what has now happened. Lock-free; one system call per request.
    fn wake_engine(&self, half_empty: bool) {
        fence(Ordering::SeqCst);
        let asked = self.wake.load(Ordering::Relaxed);
        let happened = (asked == Wake::HalfEmpty as u8 && half_empty)
            || (asked == Wake::Drained as u8 && self.is_drained());
        if happened
            && self
                .wake
                .compare_exchange(asked, WAKE_NONE, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.engine.unpark();
        }
    }
    pub(crate) fn played_samples(&self) -> u64 {
        self.played_samples.load(Ordering::Acquire)
    }
    pub(crate) fn finish_writing(&self) {
        self.finished_writing.store(true, Ordering::Release);
    }
    pub(crate) fn is_drained(&self) -> bool {
        self.drained.load(Ordering::Acquire)
    }
    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
    }
    pub(crate) fn set_gain(&self, gain: f32) {
        self.gain.store(gain.to_bits(), Ordering::Relaxed);
    }
    pub(crate) fn set_track_gain(&self, gain: f32) {
        self.track_gain.store(gain.to_bits(), Ordering::Relaxed);
    }
}

/// The producer end of a stream, kept by the engine.
#[derive(Debug)]
pub(crate) struct StreamWriter {
    blocks: rtrb::Producer<Vec<f32>>,
    /// Blocks the reader has played, to decode into again.
    spare: rtrb::Consumer<Vec<f32>>,
    shared: Arc<StreamShared>,
    /// Samples the stream holds when full.
    capacity: usize,
    /// Samples it must hold before it can start playing (see [`StreamWriter::can_start`]).
    start_at: usize,
}

impl StreamWriter {
    /// A block to decode into: one the reader has played, else a new one. Its length is
    /// stale; decoding sets it.
    pub(crate) fn block(&mut self) -> Vec<f32> {
        self.spare.pop().unwrap_or_default()
    }

    /// True while the stream has room for another block. A block is taken whole, so the
    /// stream may end up a block over its capacity.
    pub(crate) fn has_room(&self) -> bool {
        self.shared.queued.load(Ordering::Acquire) < self.capacity && !self.blocks.is_full()
    }

    /// Hands a block of whole frames to the reader; gives it back if there is no room.
    pub(crate) fn push(&mut self, block: Vec<f32>) -> Result<(), Vec<f32>> {
        let len = block.len();
        if !self.has_room() {
            return Err(block);
        }
        // Counted before it is visible, so the reader, which takes what it plays off the
        // count, never takes off more than was added.
        self.shared.queued.fetch_add(len, Ordering::AcqRel);
        self.blocks
            .push(block)
            .map_err(|rtrb::PushError::Full(block)| {
                self.shared.queued.fetch_sub(len, Ordering::AcqRel);
                block
            })
    }

    /// The state both ends see.
    pub(crate) fn shared(&self) -> &StreamShared {
        &self.shared
    }

    /// True when the stream holds half its capacity or less.
    pub(crate) fn half_empty(&self) -> bool {
        self.shared.queued.load(Ordering::Acquire) * 2 <= self.capacity
    }

    /// True once the stream holds enough to start playing: a tenth of a second. The
    /// engine decodes the rest while that plays, so the stream's size does not delay the
    /// first sound.
    pub(crate) fn can_start(&self) -> bool {
        self.shared.queued.load(Ordering::Acquire) >= self.start_at
    }
}

/// The consumer end of a stream, handed to an [`crate::AudioOutput`].
///
/// Call [`StreamReader::next_sample`] from the audio callback: `Some(sample)` while the
/// stream lasts (silence during pause or underrun), `None` once it has ended.
#[derive(Debug)]
pub struct StreamReader {
    blocks: rtrb::Consumer<Vec<f32>>,
    /// Where played blocks go back to the engine. It holds every block there can be, so
    /// handing one back never fails (and never frees memory in the audio callback).
    spare: rtrb::Producer<Vec<f32>>,
    shared: Arc<StreamShared>,
    format: StreamFormat,
    capacity: usize,
    /// The block being played, and the position in it.
    block: Vec<f32>,
    pos: usize,
    /// Samples played and not yet taken off the fill level.
    unsettled: usize,
    /// Position inside the current frame; state changes wait for a frame boundary.
    channel: u16,
    ended: bool,
    /// The gain for the current frame (volume times ReplayGain), read once per frame.
    frame_gain: f32,
    /// Samples of the current frame played but not yet added to `played_samples`, which
    /// is updated once per frame.
    unpublished: u64,
}

impl StreamReader {
    /// Moves on to the next block, handing the played one back; false if none is waiting.
    fn next_block(&mut self) -> bool {
        let Ok(next) = self.blocks.pop() else {
            return false;
        };
        let played = std::mem::replace(&mut self.block, next);
        self.pos = 0;
        if played.capacity() > 0 {
            // Cannot fail: the spare ring has room for every block (see `stream`).
            let _ = self.spare.push(played);
        }
        true
    }

    /// Takes the samples played off the fill level, and wakes the engine if it asked to be
    /// told the stream is half empty.
    fn settle(&mut self) {
        let n = std::mem::take(&mut self.unsettled);
        if n > 0 {
            let queued = self
                .shared
                .queued
                .fetch_sub(n, Ordering::AcqRel)
                .saturating_sub(n);
            self.shared.wake_engine(queued * 2 <= self.capacity);
        }
    }

    /// The stream has played out: said once, to the engine too.
    fn drain(&mut self) {
        self.ended = true;
        self.shared.drained.store(true, Ordering::Release);
        self.shared.wake_engine(true);
    }

    fn publish(&mut self) {
        if self.unpublished > 0 {
            self.shared
                .played_samples
                .fetch_add(self.unpublished, Ordering::AcqRel);
            self.unpublished = 0;
        }
    }

    /// True once the writer has finished and every block has been played.
    fn written_out(&self) -> bool {
        self.shared.finished_writing.load(Ordering::Acquire)
            && self.pos >= self.block.len()
            && self.blocks.is_empty()
    }

    pub fn format(&self) -> StreamFormat {
        self.format
    }

    /// Whole frames written and not yet played, right now.
    pub fn available_frames(&self) -> usize {
        self.shared.queued.load(Ordering::Acquire) / usize::from(self.format.channels).max(1)
    }

    /// Samples this stream is sure to play before it ends: what is written and not yet
    /// played, else one frame (silence, or what the engine writes meanwhile); 0 once it
    /// has played out. An output that converts rate or channels reads this far in this
    /// stream's format before it looks at the format again, so a stream of another
    /// format that follows is never read as this one.
    pub fn samples_before_end(&self) -> usize {
        if self.ended || self.written_out() {
            return 0;
        }
        let channels = usize::from(self.format.channels).max(1);
        let unplayed = self
            .shared
            .queued
            .load(Ordering::Acquire)
            .saturating_sub(self.unsettled);
        unplayed.max(channels)
    }

    /// True once the stream has ended (played out, or stopped).
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Fills `out` (whole frames) with what plays next, as an output that takes a buffer
    /// at a time does: silence while paused, and only what the stream holds otherwise (the
    /// count is returned; an output that must fill its buffer pads with silence). `None`
    /// once the stream has ended.
    pub fn read(&mut self, out: &mut [f32]) -> Option<usize> {
        if self.ended {
            return None;
        }
        let channels = usize::from(self.format.channels).max(1);
        // Finish a frame begun by `next_sample` first, so frames stay whole.
        let mut written = 0;
        while self.channel != 0 && written < out.len() {
            match self.next_sample() {
                Some(sample) => out[written] = sample,
                None => return (written > 0).then_some(written),
            }
            written += 1;
        }
        if self.shared.stopped.load(Ordering::Acquire) {
            self.publish();
            self.ended = true;
            return (written > 0).then_some(written);
        }
        let want = (out.len() - written) / channels * channels;
        if self.shared.paused.load(Ordering::Acquire) {
            out[written..written + want].fill(0.0);
            return Some(written + want);
        }
        let gain = f32::from_bits(self.shared.gain.load(Ordering::Relaxed))
            * f32::from_bits(self.shared.track_gain.load(Ordering::Relaxed));
        let mut copied = 0;
        while copied < want && (self.pos < self.block.len() || self.next_block()) {
            let n = (self.block.len() - self.pos).min(want - copied);
            let from = &self.block[self.pos..self.pos + n];
            let to = &mut out[written + copied..written + copied + n];
            for (o, s) in to.iter_mut().zip(from) {
                *o = s * gain;
            }
            self.pos += n;
            copied += n;
        }
        if copied > 0 {
            self.unsettled += copied;
            self.settle();
            self.unpublished += copied as u64;
            self.publish();
        } else if want > 0 && self.written_out() {
            self.drain();
            return (written > 0).then_some(written);
        }
        Some(written + copied)
    }

    /// The next sample to play, or `None` when the stream has ended.
    pub fn next_sample(&mut self) -> Option<f32> {
        if self.ended {
            return None;
        }
        if self.channel == 0 {
            if self.shared.stopped.load(Ordering::Acquire) {
                self.publish();
                self.ended = true;
                return None;
            }
            if self.shared.paused.load(Ordering::Acquire) {
                self.publish();
                return Some(0.0);
            }
            self.frame_gain = f32::from_bits(self.shared.gain.load(Ordering::Relaxed))
                * f32::from_bits(self.shared.track_gain.load(Ordering::Relaxed));
        }
        if self.pos < self.block.len() || self.next_block() {
            let sample = self.block[self.pos];
            self.pos += 1;
            self.channel = (self.channel + 1) % self.format.channels;
            self.unpublished += 1;
            self.unsettled += 1;
            if self.channel == 0 {
                self.publish();
            }
            if self.pos == self.block.len() {
                // The fill level is settled a block at a time: it is a cache line the
                // engine writes too.
                self.settle();
            }
            return Some(sample * self.frame_gain);
        }
        // Blocks hold whole frames, so running dry is always at a frame boundary. Check
        // `finished_writing` before concluding: the engine sets it after its last block,
        // so no block after that flag means we are done.
        self.publish();
        if self.written_out() {
            self.drain();
            return None;
        }
        // An underrun: silence, and what played so far is all there is to count.
        Some(0.0)
    }
}

/// Seconds of audio a stream holds when full.
const SECONDS: usize = 2;

/// Blocks a stream can hold: more than [`SECONDS`] of the smallest packets (Vorbis's
/// short blocks) at 48 kHz.
const MAX_BLOCKS: usize = 1024;

/// Creates a stream: the engine keeps the writer and shared state, the output gets the
/// reader.
pub(crate) fn stream(
    format: StreamFormat,
    shared: Arc<StreamShared>,
) -> (StreamWriter, StreamReader) {
    // Two seconds of audio: enough to ride out a slow disk, and the engine wakes to top it
    // up only once a second (each wake costs more than the decoding it leads to on some
    // machines; measured on one, a one-second stream's extra wakes cost 5% of the
    // decoding). A seek or stop is still heard at once: the engine replaces the stream
    // rather than draining it, and pause and volume act where the stream is read.
    let second = (format.sample_rate as usize).max(2048) * format.channels as usize;
    let capacity = SECONDS * second;
    let (blocks_in, blocks_out) = rtrb::RingBuffer::new(MAX_BLOCKS);
    // Every block that can exist: those in the stream, the one being played and the one
    // being decoded into.
    let (spare_in, spare_out) = rtrb::RingBuffer::new(MAX_BLOCKS + 2);
    (
        StreamWriter {
            blocks: blocks_in,
            spare: spare_out,
            shared: shared.clone(),
            capacity,
            start_at: second / 10,
        },
        StreamReader {
            blocks: blocks_out,
            spare: spare_in,
            shared,
            format,
            capacity,
            block: Vec::new(),
            pos: 0,
            unsettled: 0,
            channel: 0,
            ended: false,
            frame_gain: 1.0,
            unpublished: 0,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stereo() -> StreamFormat {
        StreamFormat {
            sample_rate: 8000,
            channels: 2,
        }
    }

    #[test]
    fn reader_plays_silence_on_underrun_and_ends_after_finish() {
        let shared = StreamShared::new(1.0, false, std::thread::current());
        let (mut writer, mut reader) = stream(stereo(), shared.clone());
        assert_eq!(reader.next_sample(), Some(0.0));
        assert!(writer.push(vec![0.5, -0.5]).is_ok());
        assert_eq!(reader.next_sample(), Some(0.5));
        assert_eq!(reader.next_sample(), Some(-0.5));
        assert_eq!(reader.next_sample(), Some(0.0), "an underrun, not the end");
        shared.finish_writing();
        assert_eq!(reader.next_sample(), None);
        assert!(shared.is_drained());
        assert_eq!(shared.played_samples(), 2);
    }

    #[test]
    fn read_takes_whole_frames_with_gain_across_blocks_and_ends_after_finish() {
        let shared = StreamShared::new(0.5, false, std::thread::current());
        let (mut writer, mut reader) = stream(stereo(), shared.clone());
        assert!(writer.push(vec![1.0, -1.0, 0.5, -0.5]).is_ok());
        assert!(writer.push(vec![0.25, -0.25]).is_ok());
        // Half a frame first, through the sample-at-a-time path.
        assert_eq!(reader.next_sample(), Some(0.5));
        let mut out = [9.0; 4];
        // The rest of that frame, then one whole frame; the room left is half a frame.
        assert_eq!(reader.read(&mut out), Some(3));
        assert_eq!(&out[..3], &[-0.5, 0.25, -0.25]);
        assert_eq!(reader.available_frames(), 1);
        shared.set_paused(true);
        assert_eq!(reader.read(&mut out), Some(4), "silence while paused");
        assert_eq!(&out[..4], &[0.0; 4]);
        shared.set_paused(false);
        assert!(writer.push(vec![-0.25, 0.75]).is_ok());
        shared.finish_writing();
        // The last frame of one block and the first of the next, in one read.
        assert_eq!(reader.read(&mut out), Some(4));
        assert_eq!(&out, &[0.125, -0.125, -0.125, 0.375]);
        assert_eq!(reader.read(&mut out), None);
        assert!(shared.is_drained());
        assert_eq!(shared.played_samples(), 8);
        assert_eq!(reader.available_frames(), 0);
    }

    #[test]
    fn played_blocks_come_back_to_be_decoded_into_again() {
        let shared = StreamShared::new(1.0, false, std::thread::current());
        let (mut writer, mut reader) = stream(stereo(), shared.clone());
        let first = vec![0.5; 6];
        let address = first.as_ptr();
        assert!(writer.push(first).is_ok());
        assert!(writer.push(vec![0.25; 6]).is_ok());
        assert!(
            writer.block().capacity() == 0,
            "nothing played yet: a new block"
        );
        let mut out = [0.0; 8];
        assert_eq!(reader.read(&mut out), Some(8));
        let back = writer.block();
        assert_eq!(back.as_ptr(), address, "the played block, not a copy");
        assert_eq!(back.len(), 6, "its length is left for the decoder to set");
    }

    #[test]
    fn the_writer_stops_at_capacity_and_takes_a_block_whole() {
        let shared = StreamShared::new(1.0, false, std::thread::current());
        let (mut writer, mut reader) = stream(stereo(), shared.clone());
        let capacity = writer.capacity;
        let mut pushed = 0;
        while writer.has_room() {
            assert!(writer.push(vec![0.0; 1000]).is_ok());
            pushed += 1000;
        }
        assert!(pushed >= capacity && pushed < capacity + 1000);
        assert_eq!(reader.available_frames(), pushed / 2);
        let refused = writer.push(vec![1.0; 2]);
        assert_eq!(refused, Err(vec![1.0; 2]), "full: given back");
        let mut out = vec![0.0; 1000];
        assert_eq!(reader.read(&mut out), Some(1000));
        assert!(writer.has_room());
    }

    #[test]
    fn a_stream_can_start_at_a_tenth_of_a_second() {
        let shared = StreamShared::new(1.0, false, std::thread::current());
        let (mut writer, mut reader) = stream(stereo(), shared);
        // Two seconds of stereo at 8 kHz.
        assert_eq!(writer.capacity, 32_000);
        assert!(!writer.can_start());
        assert!(writer.push(vec![0.0; 1_598]).is_ok());
        assert!(!writer.can_start(), "just short of a tenth");
        assert!(writer.push(vec![0.0; 2]).is_ok());
        assert!(writer.can_start());
        let mut out = vec![0.0; 100];
        assert_eq!(reader.read(&mut out), Some(100));
        assert!(!writer.can_start(), "below a tenth again once played");
    }

    /// A thread that parks once for up to 20 s, as the engine does, once `start` is
    /// called; the handle gives how long it slept. A wake it misses costs the 20 s.
    struct Sleeper {
        handle: std::thread::JoinHandle<std::time::Duration>,
        go: std::sync::mpsc::Sender<()>,
        parking: std::sync::mpsc::Receiver<()>,
    }

    impl Sleeper {
        fn new() -> Sleeper {
            let (go, wait_for_go) = std::sync::mpsc::channel();
            let (say_parking, parking) = std::sync::mpsc::channel();
            let handle = std::thread::spawn(move || {
                let _ = wait_for_go.recv();
                let _ = say_parking.send(());
                let start = std::time::Instant::now();
                std::thread::park_timeout(std::time::Duration::from_secs(20));
                start.elapsed()
            });
            Sleeper {
                handle,
                go,
                parking,
            }
        }

        fn thread(&self) -> std::thread::Thread {
            self.handle.thread().clone()
        }

        /// Returns once the thread is about to park (its channel waits are over, so the
        /// unpark that follows is its).
        fn start(&self) {
            assert!(self.go.send(()).is_ok());
            assert!(self.parking.recv().is_ok());
        }

        fn slept(self) -> std::time::Duration {
            self.handle.join().unwrap_or(std::time::Duration::MAX)
        }
    }

    #[test]
    fn the_reader_wakes_the_engine_once_the_stream_is_half_empty() {
        let sleeper = Sleeper::new();
        let shared = StreamShared::new(1.0, false, sleeper.thread());
        let (mut writer, mut reader) = stream(stereo(), shared.clone());
        let capacity = writer.capacity;
        for _ in 0..4 {
            assert!(writer.push(vec![0.25; capacity / 4]).is_ok());
        }
        assert!(!writer.has_room());
        shared.ask_wake(Wake::HalfEmpty);
        sleeper.start();
        let mut out = vec![0.0; capacity / 4];
        assert_eq!(reader.read(&mut out), Some(capacity / 4));
        assert!(
            shared.wake_asked(),
            "three quarters full: the engine sleeps on"
        );
        assert!(!writer.half_empty());
        assert_eq!(reader.read(&mut out), Some(capacity / 4));
        assert!(writer.half_empty());
        assert!(!shared.wake_asked(), "half empty: the request is taken");
        let slept = sleeper.slept();
        assert!(
            slept < std::time::Duration::from_secs(10),
            "woken: {slept:?}"
        );
    }

    #[test]
    fn the_reader_wakes_the_engine_when_the_stream_has_played_out() {
        let sleeper = Sleeper::new();
        let shared = StreamShared::new(1.0, false, sleeper.thread());
        let (mut writer, mut reader) = stream(stereo(), shared.clone());
        assert!(writer.push(vec![0.5; 8]).is_ok());
        shared.finish_writing();
        shared.ask_wake(Wake::Drained);
        sleeper.start();
        // One sample at a time, as the real output plays: emptying the stream is not the
        // end yet; the next sample asked for is.
        for _ in 0..8 {
            assert_eq!(reader.next_sample(), Some(0.5));
        }
        assert!(
            shared.wake_asked(),
            "not played out until the reader finds the end"
        );
        assert_eq!(reader.next_sample(), None);
        assert!(!shared.wake_asked());
        let slept = sleeper.slept();
        assert!(
            slept < std::time::Duration::from_secs(10),
            "woken: {slept:?}"
        );
    }

    #[test]
    fn pause_waits_for_a_frame_boundary_and_gain_applies() {
        let shared = StreamShared::new(0.5, false, std::thread::current());
        let (mut writer, mut reader) = stream(stereo(), shared.clone());
        assert!(writer.push(vec![1.0; 4]).is_ok());
        assert_eq!(reader.next_sample(), Some(0.5));
        shared.set_paused(true);
        // The second half of the frame still plays, then silence without consuming.
        assert_eq!(reader.next_sample(), Some(0.5));
        assert_eq!(reader.next_sample(), Some(0.0));
        assert_eq!(shared.played_samples(), 2);
        shared.set_paused(false);
        assert_eq!(reader.next_sample(), Some(0.5));
        shared.stop();
        assert_eq!(reader.next_sample(), Some(0.5));
        assert_eq!(reader.next_sample(), None);
    }
}
