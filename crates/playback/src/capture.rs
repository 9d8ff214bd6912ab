//! A capture output: plays streams into memory at a chosen pace, for tests and tools that
//! need to check exactly which samples the engine produced.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{AudioOutput, PlaybackError, StreamFormat, StreamReader};

/// What a [`CaptureOutput`] has received: one entry per stream, in order.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub streams: Vec<CapturedStream>,
    /// CPU time the capture's thread has spent in its sleeps between pulls: its own
    /// timekeeping, which a sound card does in hardware. The playback benchmark reports
    /// it, as on a virtual machine each sleep can cost its thread over 10 µs. An estimate
    /// from a sample of the sleeps, set when the capture's thread ends.
    pub sleep_cpu: Duration,
}

/// The samples of one stream (interleaved, after gain, including the silence played
/// while paused or starved) and its format.
#[derive(Debug, Clone)]
pub struct CapturedStream {
    pub format: StreamFormat,
    pub samples: Vec<f32>,
    /// How many samples played, kept or not (see [`CaptureOutput::counting`]).
    pub sample_count: u64,
    /// True once the stream reported its end (played out or stopped).
    pub ended: bool,
}

/// An [`AudioOutput`] that pulls samples on its own thread, like a sound card would.
///
/// `speed` is how many times faster than real time it pulls (1.0 = real time;
/// `f64::INFINITY` = as fast as samples arrive, without recording underrun silence). Pacing
/// matters for behaviour such as pause, which must hold a stream part-way through.
#[derive(Debug)]
pub struct CaptureOutput {
    speed: f64,
    /// False to count samples without keeping them (for measuring the engine's cost).
    keep: bool,
    captured: Arc<Mutex<Captured>>,
    current: Option<Playing>,
}

/// The capture thread of the stream being played, and the streams queued after it.
#[derive(Debug)]
struct Playing {
    cancel: Arc<AtomicBool>,
    queued: Arc<Mutex<Queued>>,
    handle: JoinHandle<()>,
}

/// Streams waiting to follow the one being pulled; `closed` once the thread has finished.
#[derive(Debug, Default)]
struct Queued {
    streams: VecDeque<StreamReader>,
    closed: bool,
}

/// A handle to read what a [`CaptureOutput`] captured, usable after the output moved into the engine.
#[derive(Debug, Clone)]
pub struct CaptureHandle {
    captured: Arc<Mutex<Captured>>,
}

impl CaptureHandle {
    /// A copy of everything captured so far.
    pub fn snapshot(&self) -> Captured {
        self.captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl CaptureOutput {
    pub fn new(speed: f64) -> (CaptureOutput, CaptureHandle) {
        Self::make(speed, true)
    }

    /// Like [`CaptureOutput::new`], but only counts the samples (`samples` stays empty):
    /// the cost of keeping them is the capture's, not the engine's.
    pub fn counting(speed: f64) -> (CaptureOutput, CaptureHandle) {
        Self::make(speed, false)
    }

    fn make(speed: f64, keep: bool) -> (CaptureOutput, CaptureHandle) {
        let captured = Arc::new(Mutex::new(Captured::default()));
        (
            CaptureOutput {
                speed,
                keep,
                captured: captured.clone(),
                current: None,
            },
            CaptureHandle { captured },
        )
    }
}

impl AudioOutput for CaptureOutput {
    fn play(&mut self, stream: StreamReader) -> Result<(), PlaybackError> {
        self.stop();
        let queued: Arc<Mutex<Queued>> = Arc::default();
        let cancel = Arc::new(AtomicBool::new(false));
        let captured = self.captured.clone();
        let speed = self.speed;
        let keep = self.keep;
        let thread_cancel = cancel.clone();
        let thread_queue = queued.clone();
        let handle = std::thread::spawn(move || {
            pull(
                stream,
                &thread_queue,
                &captured,
                speed,
                keep,
                &thread_cancel,
            );
        });
        self.current = Some(Playing {
            cancel,
            queued,
            handle,
        });
        Ok(())
    }

    fn append(&mut self, stream: StreamReader) -> Result<(), PlaybackError> {
        if let Some(playing) = &self.current {
            let mut queued = playing
                .queued
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !queued.closed {
                queued.streams.push_back(stream);
                return Ok(());
            }
        }
        self.play(stream)
    }

    fn stop(&mut self) {
        if let Some(playing) = self.current.take() {
            playing.cancel.store(true, Ordering::Release);
            // The thread only loops and sleeps; a panic there would be a bug in this file.
            let _ = playing.handle.join();
        }
    }
}

/// The capture thread: pulls `stream`, then each queued stream the moment the one before
/// ends. A queued stream of the same format continues the same [`CapturedStream`], as it
/// would continue the same device stream.
fn pull(
    mut stream: StreamReader,
    queued: &Mutex<Queued>,
    captured: &Mutex<Captured>,
    speed: f64,
    keep: bool,
    cancel: &AtomicBool,
) {
    let unpaced = !speed.is_finite();
    let mut format = stream.format();
    let mut index = new_capture(captured, format);
    let mut start = Instant::now();
    let mut pulled: u64 = 0;
    // Reused for every pull, never shrunk: zeroing it each turn would cost as much as
    // the copy it receives.
    let mut buffer: Vec<f32> = Vec::new();
    let mut slept = SleepCost::default();
    while !cancel.load(Ordering::Acquire) {
        let channels = u64::from(format.channels);
        let frames = if unpaced {
            // As fast as the engine can decode, but never inventing underrun silence:
            // take all that is there (each turn costs a sleep, which on a virtual machine
            // can cost the thread 30-50 µs), or learn that the stream ended. The clock is
            // not read (on such a machine that costs more than a turn's bookkeeping).
            (stream.available_frames() as u64).max(1)
        } else {
            // Whole frames only, at most a second's worth per turn.
            let samples_per_sec =
                f64::from(format.sample_rate) * f64::from(format.channels) * speed;
            let due =
                (start.elapsed().as_secs_f64() * samples_per_sec).min(u64::MAX as f64 / 2.0) as u64;
            (due.saturating_sub(pulled) / channels).min(u64::from(format.sample_rate))
        };
        if frames == 0 {
            slept.sleep(Duration::from_millis(2));
            continue;
        }
        let want = frames as usize * channels as usize;
        if buffer.len() < want {
            buffer.resize(want, 0.0);
        }
        let mut got = stream.read(&mut buffer[..want]).unwrap_or(0);
        if got < want && !stream.is_ended() {
            // Short: either an underrun, or the stream's last samples, which it only says
            // were the last when read again. At its end the next stream carries on in
            // this same pull, as it would at a sound card: no silence between them.
            got += stream.read(&mut buffer[got..want]).unwrap_or(0);
        }
        let chunk = if !unpaced && got < want && !stream.is_ended() {
            // An underrun at a paced output: the device would play silence.
            buffer[got..want].fill(0.0);
            &buffer[..want]
        } else {
            &buffer[..got]
        };
        pulled += chunk.len() as u64;
        let next = if stream.is_ended() {
            let mut queued = queued.lock().unwrap_or_else(PoisonError::into_inner);
            let next = queued.streams.pop_front();
            // Nothing follows: at a paced output, that is the end (a later stream starts
            // a new capture, see `append`). Unpaced, samples come when the engine has
            // them: a stream appended later still follows on, as if it had been in time.
            queued.closed = next.is_none() && !unpaced;
            next
        } else {
            None
        };
        {
            let mut captured = captured.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(s) = captured.streams.get_mut(index) {
                if keep {
                    s.samples.extend_from_slice(chunk);
                }
                s.sample_count += chunk.len() as u64;
                s.ended = stream.is_ended() && next.is_none();
            }
        }
        match next {
            Some(following) => {
                stream = following;
                if stream.format() != format {
                    format = stream.format();
                    index = new_capture(captured, format);
                    start = Instant::now();
                    pulled = 0;
                }
                // Straight on, as a device would: no sleep between streams.
                continue;
            }
            None if stream.is_ended() && !unpaced => break,
            None => {}
        }
        // Unpaced, a pull every millisecond: still far more often than a sound card's
        // period (10 ms is usual), and the stream holds two seconds, so the engine never
        // waits on it; more often, the capture would measure its own timer.
        slept.sleep(Duration::from_millis(if unpaced { 1 } else { 2 }));
    }
    captured
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .sleep_cpu += slept.estimate();
}

/// One sleep in this many is timed.
const SLEEPS_PER_TIMED: u32 = 16;

/// What the capture thread's sleeps cost it (arming the timer, giving up the processor
/// and getting it back), estimated from a sample of them: reading a thread's CPU clock
/// costs a system call that locks the scheduler's run queue, which around every sleep
/// came to about a fifth of what the sleeps cost, charged to the engine in the benchmark.
#[derive(Debug, Default)]
struct SleepCost {
    sleeps: u32,
    timed: u32,
    cost: Duration,
}

impl SleepCost {
    fn sleep(&mut self, duration: Duration) {
        if self.sleeps.is_multiple_of(SLEEPS_PER_TIMED) {
            let before = thread_cpu();
            std::thread::sleep(duration);
            self.cost += thread_cpu().saturating_sub(before);
            self.timed += 1;
        } else {
            std::thread::sleep(duration);
        }
        self.sleeps = self.sleeps.wrapping_add(1);
    }

    fn estimate(&self) -> Duration {
        if self.timed == 0 {
            return Duration::ZERO;
        }
        self.cost
            .mul_f64(f64::from(self.sleeps) / f64::from(self.timed))
    }
}

/// CPU time of the calling thread so far.
fn thread_cpu() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

fn new_capture(captured: &Mutex<Captured>, format: StreamFormat) -> usize {
    let mut captured = captured.lock().unwrap_or_else(PoisonError::into_inner);
    captured.streams.push(CapturedStream {
        format,
        samples: Vec::new(),
        sample_count: 0,
        ended: false,
    });
    captured.streams.len() - 1
}

impl Drop for CaptureOutput {
    fn drop(&mut self) {
        self.stop();
    }
}
