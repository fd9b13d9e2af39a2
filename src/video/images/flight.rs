//! What bounds the work of images on one node besides the process cap: requests for the
//! same image share one making of it, and an app makes a few at a time.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use crate::model::AppId;

/// The images being made, by key: the first request makes it, the others wait for it.
pub(super) struct Flights<K, T> {
    map: Mutex<HashMap<K, Arc<OnceCell<T>>>>,
}

impl<K: Hash + Eq + Clone, T: Clone> Flights<K, T> {
    pub fn new() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }

    /// `make`'s result for `key`, made once however many ask meanwhile. When the caller
    /// making it goes away (its client hung up, which stops its ffmpeg), a waiting one
    /// makes it instead. Once made, the next caller makes it afresh: by then its copy is
    /// stored, so the caller reads that first.
    pub async fn run<F, Fut>(&self, key: K, make: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let guard = Leave {
            flights: self,
            key,
            cell,
        };
        guard.cell.get_or_init(make).await.clone()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().unwrap().len()
    }
}

/// Removes a flight when it is over: made, or left by every caller.
struct Leave<'a, K: Hash + Eq, T> {
    flights: &'a Flights<K, T>,
    key: K,
    cell: Arc<OnceCell<T>>,
}

impl<K: Hash + Eq, T> Drop for Leave<'_, K, T> {
    fn drop(&mut self) {
        let mut map = self.flights.map.lock().unwrap_or_else(|e| e.into_inner());
        let ours = map
            .get(&self.key)
            .is_some_and(|c| Arc::ptr_eq(c, &self.cell));
        // Held by the map and this guard only: nobody else waits for it.
        if ours && (self.cell.initialized() || Arc::strong_count(&self.cell) <= 2) {
            map.remove(&self.key);
        }
    }
}

/// Slots of each app: at most `per_app` images of one app are made at once on a node.
pub(super) struct AppSlots {
    per_app: usize,
    apps: Mutex<HashMap<AppId, Arc<Semaphore>>>,
}

impl AppSlots {
    pub fn new(per_app: usize) -> Self {
        Self {
            per_app: per_app.max(1),
            apps: Mutex::new(HashMap::new()),
        }
    }

    /// A slot of `app`, waiting at most `wait` for one.
    pub async fn acquire(&self, app: AppId, wait: Duration) -> Option<OwnedSemaphorePermit> {
        let slots = {
            let mut apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
            apps.entry(app)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_app)))
                .clone()
        };
        tokio::time::timeout(wait, slots.acquire_owned())
            .await
            .ok()?
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn concurrent_requests_share_one_making_and_leave_nothing_behind() {
        let flights: Arc<Flights<String, u32>> = Arc::new(Flights::new());
        let made = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let (flights, made, mut rx) = (flights.clone(), made.clone(), rx.clone());
            tasks.push(tokio::spawn(async move {
                flights
                    .run("a".to_string(), || async move {
                        made.fetch_add(1, Ordering::SeqCst);
                        let _ = rx.wait_for(|go| *go).await;
                        7
                    })
                    .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.send(true).unwrap();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 7);
        }
        assert_eq!(made.load(Ordering::SeqCst), 1);
        assert_eq!(flights.len(), 0);
        drop(rx);
    }

    #[tokio::test]
    async fn a_waiter_takes_over_when_the_maker_goes_away() {
        let flights: Arc<Flights<String, u32>> = Arc::new(Flights::new());
        let first = {
            let flights = flights.clone();
            tokio::spawn(async move {
                flights
                    .run("a".to_string(), std::future::pending::<u32>)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = {
            let flights = flights.clone();
            tokio::spawn(async move { flights.run("a".to_string(), || async { 9 }).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        first.abort();
        assert_eq!(second.await.unwrap(), 9);
        assert_eq!(flights.len(), 0);
        // A caller that gives up alone leaves no entry either.
        let lone = {
            let flights = flights.clone();
            tokio::spawn(async move {
                flights
                    .run("b".to_string(), std::future::pending::<u32>)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        lone.abort();
        let _ = lone.await;
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test]
    async fn an_app_waits_for_its_own_slots_only() {
        let slots = AppSlots::new(1);
        let held = slots.acquire(AppId(1), Duration::from_secs(1)).await;
        assert!(held.is_some());
        assert!(
            slots
                .acquire(AppId(1), Duration::from_millis(20))
                .await
                .is_none()
        );
        assert!(
            slots
                .acquire(AppId(2), Duration::from_millis(20))
                .await
                .is_some()
        );
        drop(held);
        assert!(
            slots
                .acquire(AppId(1), Duration::from_millis(20))
                .await
                .is_some()
        );
    }
}
