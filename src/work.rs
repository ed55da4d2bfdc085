//! Costly work bounded: at most so many at once of one kind (password hashes, uploads being
//! stored), the others waiting their turn for a while, then told the service is busy. Used from
//! blocking threads (`web::block`), never from the server's event loop.

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// No permit came in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too much of this work at once: try again in a moment")]
pub struct Busy;

/// Permits of one kind of work.
pub struct Permits {
    running: Mutex<usize>,
    freed: Condvar,
    limit: usize,
    wait: Duration,
}

impl Permits {
    pub const fn new(limit: usize, wait: Duration) -> Self {
        Permits {
            running: Mutex::new(0),
            freed: Condvar::new(),
            limit,
            wait,
        }
    }

    /// Permits whose number is read once from the variable `name` (a positive integer), else
    /// `default`.
    pub fn from_env(name: &str, default: usize, wait: Duration) -> Self {
        let limit = std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(default);
        Permits::new(limit, wait)
    }

    /// Runs `work` under a permit, waiting (blocking the thread) at most the permits' wait for
    /// one.
    pub fn run<T>(&self, work: impl FnOnce() -> T) -> Result<T, Busy> {
        let deadline = Instant::now() + self.wait;
        {
            let mut running = self.running.lock().map_err(|_| Busy)?;
            while *running >= self.limit {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Busy);
                }
                running = self.freed.wait_timeout(running, left).map_err(|_| Busy)?.0;
            }
            *running += 1;
        }
        struct Release<'a>(&'a Permits);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                if let Ok(mut running) = self.0.running.lock() {
                    *running -= 1;
                }
                self.0.freed.notify_one();
            }
        }
        let _release = Release(self);
        Ok(work())
    }

    /// The most that run at once.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Password hashes (argon2id, 19 MiB and ~50 ms of a core each): `GROUPEMENT_PASSWORD_HASHES`
/// at once (default 2), a request waiting at most 10 s.
pub fn password_hashes() -> &'static Permits {
    static PERMITS: OnceLock<Permits> = OnceLock::new();
    PERMITS
        .get_or_init(|| Permits::from_env("GROUPEMENT_PASSWORD_HASHES", 2, Duration::from_secs(10)))
}

/// Uploaded documents being stored (each read whole from its temporary file into the
/// database): `GROUPEMENT_UPLOADS_STORED` at once (default 3), waiting at most 60 s.
pub fn uploads_stored() -> &'static Permits {
    static PERMITS: OnceLock<Permits> = OnceLock::new();
    PERMITS
        .get_or_init(|| Permits::from_env("GROUPEMENT_UPLOADS_STORED", 3, Duration::from_secs(60)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn no_more_than_the_limit_run_at_once_and_a_long_wait_is_refused() {
        let permits = Arc::new(Permits::new(2, Duration::from_secs(5)));
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (permits, now, most) = (permits.clone(), now.clone(), most.clone());
                std::thread::spawn(move || {
                    permits.run(|| {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                })
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap(), Ok(()));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        let short = Arc::new(Permits::new(1, Duration::from_millis(50)));
        let holder = {
            let short = short.clone();
            std::thread::spawn(move || short.run(|| std::thread::sleep(Duration::from_millis(500))))
        };
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(short.run(|| ()), Err(Busy));
        assert_eq!(holder.join().unwrap(), Ok(()));
        assert_eq!(short.run(|| 7), Ok(7));
    }
}
