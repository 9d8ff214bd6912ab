//! A capture output: plays streams into memory at a chosen pace, for tests and tools that
//! need to check exactly which samples the engine produced.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{AudioOutput, PlaybackError, StreamFormat, StreamReader};

/// What a [`CaptureOutput`] has received: one entry per stream, in order.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub streams: Vec<CapturedStream>,
}

/// The samples of one stream (interleaved, after gain, including the silence played
/// while paused or starved) and its format.
#[derive(Debug, Clone)]
pub struct CapturedStream {
    pub format: StreamFormat,
    pub samples: Vec<f32>,
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
    captured: Arc<Mutex<Captured>>,
    current: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
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
        let captured = Arc::new(Mutex::new(Captured::default()));
        (
            CaptureOutput {
                speed,
                captured: captured.clone(),
                current: None,
            },
            CaptureHandle { captured },
        )
    }
}

impl AudioOutput for CaptureOutput {
    fn play(&mut self, mut stream: StreamReader) -> Result<(), PlaybackError> {
        self.stop();
        let format = stream.format();
        let index = {
            let mut captured = self.captured.lock().unwrap_or_else(PoisonError::into_inner);
            captured.streams.push(CapturedStream {
                format,
                samples: Vec::new(),
                ended: false,
            });
            captured.streams.len() - 1
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let captured = self.captured.clone();
        let speed = self.speed;
        let unpaced = !speed.is_finite();
        let thread_cancel = cancel.clone();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let samples_per_sec =
                f64::from(format.sample_rate) * f64::from(format.channels) * speed;
            let mut pulled: u64 = 0;
            let mut chunk = Vec::new();
            while !thread_cancel.load(Ordering::Acquire) {
                let channels = u64::from(format.channels);
                let due = (start.elapsed().as_secs_f64() * samples_per_sec)
                    .min(u64::MAX as f64 / 2.0) as u64;
                // Whole frames only, at most a second's worth per turn.
                let mut frames =
                    (due.saturating_sub(pulled) / channels).min(u64::from(format.sample_rate));
                if unpaced {
                    // As fast as the engine can decode, but never inventing underrun
                    // silence: take only what is there, or learn that the stream ended.
                    frames = frames.min(stream.available_frames() as u64).max(1);
                }
                chunk.clear();
                'pull: for _ in 0..frames {
                    if unpaced && stream.available_frames() == 0 {
                        // Either the end (None), or an underrun whose silence is dropped:
                        // the reader only reports it at a frame boundary, so nothing slips.
                        let _ = stream.next_sample();
                        break 'pull;
                    }
                    for _ in 0..channels {
                        match stream.next_sample() {
                            Some(sample) => chunk.push(sample),
                            None => break 'pull,
                        }
                    }
                }
                pulled += frames * channels;
                {
                    let mut captured = captured.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(s) = captured.streams.get_mut(index) {
                        s.samples.extend_from_slice(&chunk);
                        s.ended = stream.is_ended();
                    }
                }
                if stream.is_ended() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        self.current = Some((cancel, handle));
        Ok(())
    }

    fn stop(&mut self) {
        if let Some((cancel, handle)) = self.current.take() {
            cancel.store(true, Ordering::Release);
            // The thread only loops and sleeps; a panic there would be a bug in this file.
            let _ = handle.join();
        }
    }
}

impl Drop for CaptureOutput {
    fn drop(&mut self) {
        self.stop();
    }
}
