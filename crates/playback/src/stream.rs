//! The hand-off between the engine thread (producer) and an audio output (consumer): a
//! lock-free ring of interleaved `f32` samples plus a few atomics.
//!
//! The consumer side ([`StreamReader`]) runs inside the audio callback, so it never
//! allocates, locks or blocks: on underrun it plays silence, and pause and stop take effect
//! at frame boundaries so channels never slip.

use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
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
    /// The ring is half empty: time to decode more.
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

    /// Called by the reader after it takes from the ring or ends: unparks the engine if
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

/// The consumer end of a stream, handed to an [`crate::AudioOutput`].
///
/// Call [`StreamReader::next_sample`] from the audio callback: `Some(sample)` while the
/// stream lasts (silence during pause or underrun), `None` once it has ended.
#[derive(Debug)]
pub struct StreamReader {
    consumer: rtrb::Consumer<f32>,
    shared: Arc<StreamShared>,
    format: StreamFormat,
    /// Position inside the current frame; state changes wait for a frame boundary.
    channel: u16,
    ended: bool,
    /// The gain for the current frame (volume times ReplayGain), read once per frame.
    frame_gain: f32,
    /// Samples of the current frame played but not yet added to `played_samples`, which
    /// is updated once per frame.
    unpublished: u64,
    /// Samples taken from the ring a chunk at a time (whole frames), served one by one:
    /// popping each sample would move the ring's read index, and its cache line, per sample.
    local: Box<[f32; LOCAL]>,
    local_len: usize,
    local_pos: usize,
}

/// Samples taken from the ring at once.
const LOCAL: usize = 512;

impl StreamReader {
    pub(crate) fn new(
        consumer: rtrb::Consumer<f32>,
        shared: Arc<StreamShared>,
        format: StreamFormat,
    ) -> StreamReader {
        StreamReader {
            consumer,
            shared,
            format,
            channel: 0,
            ended: false,
            frame_gain: 1.0,
            unpublished: 0,
            local: Box::new([0.0; LOCAL]),
            local_len: 0,
            local_pos: 0,
        }
    }

    /// Refills the local buffer from the ring (whole frames); false if the ring is empty.
    fn refill(&mut self) -> bool {
        let channels = usize::from(self.format.channels).max(1);
        let n = self.consumer.slots().min(LOCAL / channels * channels) / channels * channels;
        if n == 0 {
            return false;
        }
        let Ok(chunk) = self.consumer.read_chunk(n) else {
            return false;
        };
        let (first, second) = chunk.as_slices();
        self.local[..first.len()].copy_from_slice(first);
        self.local[first.len()..n].copy_from_slice(second);
        chunk.commit_all();
        self.local_len = n;
        self.local_pos = 0;
        self.shared.wake_engine(self.half_empty());
        true
    }

    /// True when the ring holds half its capacity or less.
    fn half_empty(&self) -> bool {
        self.consumer.slots() * 2 <= self.consumer.buffer().capacity()
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

    pub fn format(&self) -> StreamFormat {
        self.format
    }

    /// Whole frames waiting in the ring (and taken from it, not yet played) right now.
    pub fn available_frames(&self) -> usize {
        (self.consumer.slots() + self.local_len - self.local_pos)
            / usize::from(self.format.channels)
    }

    /// True once the stream has ended (played out, or stopped).
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Fills `out` (whole frames) with what plays next, as an output that takes a buffer
    /// at a time does: silence while paused, and only what the ring holds otherwise (the
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
        // What `next_sample` took into the local buffer first, then straight from the ring.
        let mut copied = 0;
        if self.local_pos < self.local_len {
            let n = (self.local_len - self.local_pos).min(want);
            let from = &self.local[self.local_pos..self.local_pos + n];
            for (o, s) in out[written..written + n].iter_mut().zip(from) {
                *o = s * gain;
            }
            self.local_pos += n;
            copied = n;
        }
        let n = self.consumer.slots().min(want - copied) / channels * channels;
        if n > 0 {
            if let Ok(chunk) = self.consumer.read_chunk(n) {
                let (first, second) = chunk.as_slices();
                let to = &mut out[written + copied..written + copied + n];
                let (to_first, to_second) = to.split_at_mut(first.len());
                for (o, s) in to_first.iter_mut().zip(first) {
                    *o = s * gain;
                }
                for (o, s) in to_second.iter_mut().zip(second) {
                    *o = s * gain;
                }
                chunk.commit_all();
                copied += n;
            }
        }
        self.unpublished += copied as u64;
        self.publish();
        if copied == 0
            && want > 0
            && self.shared.finished_writing.load(Ordering::Acquire)
            && self.consumer.is_empty()
        {
            self.drain();
            return (written > 0).then_some(written);
        }
        if copied > 0 {
            self.shared.wake_engine(self.half_empty());
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
        if self.local_pos < self.local_len || self.refill() {
            let sample = self.local[self.local_pos];
            self.local_pos += 1;
            self.channel = (self.channel + 1) % self.format.channels;
            self.unpublished += 1;
            if self.channel == 0 {
                self.publish();
            }
            return Some(sample * self.frame_gain);
        }
        // The producer writes whole frames and the local buffer holds whole frames, so
        // running dry is always at a frame boundary. Check `finished_writing` before
        // concluding: the producer sets it after its last write, so an empty ring after
        // that flag means we are done.
        self.publish();
        if self.shared.finished_writing.load(Ordering::Acquire) && self.consumer.is_empty() {
            self.drain();
            return None;
        }
        // An underrun: silence, and what played so far is all there is to count.
        Some(0.0)
    }
}

/// Creates a stream: the engine keeps the producer and shared state, the output gets the reader.
pub(crate) fn stream(
    format: StreamFormat,
    shared: Arc<StreamShared>,
) -> (rtrb::Producer<f32>, StreamReader) {
    // Half a second of audio: enough to ride out a slow disk, small enough that a seek or
    // stop is heard at once (the engine replaces the stream rather than draining it).
    let capacity = (format.sample_rate as usize / 2).max(1024) * format.channels as usize;
    let (producer, consumer) = rtrb::RingBuffer::new(capacity);
    (producer, StreamReader::new(consumer, shared, format))
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
        let (mut producer, mut reader) = stream(stereo(), shared.clone());
        assert_eq!(reader.next_sample(), Some(0.0));
        for s in [0.5, -0.5] {
            assert!(producer.push(s).is_ok());
        }
        assert_eq!(reader.next_sample(), Some(0.5));
        assert_eq!(reader.next_sample(), Some(-0.5));
        shared.finish_writing();
        assert_eq!(reader.next_sample(), None);
        assert!(shared.is_drained());
        assert_eq!(shared.played_samples(), 2);
    }

    #[test]
    fn read_takes_whole_frames_with_gain_and_ends_after_finish() {
        let shared = StreamShared::new(0.5, false, std::thread::current());
        let (mut producer, mut reader) = stream(stereo(), shared.clone());
        for s in [1.0, -1.0, 0.5, -0.5, 0.25] {
            assert!(producer.push(s).is_ok());
        }
        // Half a frame first, through the sample-at-a-time path.
        assert_eq!(reader.next_sample(), Some(0.5));
        let mut out = [9.0; 5];
        // The rest of that frame, then one whole frame; the odd sample stays.
        assert_eq!(reader.read(&mut out), Some(3));
        assert_eq!(&out[..3], &[-0.5, 0.25, -0.25]);
        shared.set_paused(true);
        assert_eq!(reader.read(&mut out), Some(4), "silence while paused");
        assert_eq!(&out[..4], &[0.0; 4]);
        shared.set_paused(false);
        assert!(producer.push(-0.25).is_ok());
        shared.finish_writing();
        assert_eq!(reader.read(&mut out), Some(2));
        assert_eq!(&out[..2], &[0.125, -0.125]);
        assert_eq!(reader.read(&mut out), None);
        assert!(shared.is_drained());
        assert_eq!(shared.played_samples(), 6);
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
    fn the_reader_wakes_the_engine_once_the_ring_is_half_empty() {
        let sleeper = Sleeper::new();
        let shared = StreamShared::new(1.0, false, sleeper.thread());
        let (mut producer, mut reader) = stream(stereo(), shared.clone());
        let capacity = producer.slots();
        assert!(producer.push_entire_slice(&vec![0.25; capacity]).is_ok());
        shared.ask_wake(Wake::HalfEmpty);
        sleeper.start();
        let mut out = vec![0.0; capacity / 4];
        assert_eq!(reader.read(&mut out), Some(capacity / 4));
        assert!(
            shared.wake_asked(),
            "three quarters full: the engine sleeps on"
        );
        assert_eq!(reader.read(&mut out), Some(capacity / 4));
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
        let (mut producer, mut reader) = stream(stereo(), shared.clone());
        assert!(producer.push_entire_slice(&[0.5; 8]).is_ok());
        shared.finish_writing();
        shared.ask_wake(Wake::Drained);
        sleeper.start();
        // One sample at a time, as the real output plays: emptying the ring is not the
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
        let (mut producer, mut reader) = stream(stereo(), shared.clone());
        for s in [1.0, 1.0, 1.0, 1.0] {
            assert!(producer.push(s).is_ok());
        }
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
