//! Supervision of a process's roles (HTTP server, receivers, intake, desk, notifier,
//! forwarder, timers). Each role runs as its own task and is expected to run until shutdown.
//! A role that ends before then, by returning or by panicking, is logged with its cause,
//! marks the process not ready (`/readyz` answers 503 naming it), and stops the process, so
//! that `tipline run` exits non-zero and systemd or Kubernetes restarts it: nothing dies
//! silently while the rest carries on half-working.
//!
//! [`Health`] also keeps what the last write to Redis said ([`Trouble`]): set by the receiving
//! edge when Redis refuses an update and by the readiness probe, so that `/readyz` names the
//! reason and recovers by itself once a write succeeds again.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::store::Trouble;

/// Which roles have failed, and whether Redis takes writes; shared with `/readyz` and
/// `/metrics`.
#[derive(Debug, Default)]
pub struct Health {
    failed: Mutex<Vec<RoleFailure>>,
    redis: Mutex<Option<Trouble>>,
}

/// A role that ended before shutdown, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role {role} ended before shutdown: {cause}")]
pub struct RoleFailure {
    /// The role's name (`intake`, `desk`, …).
    pub role: &'static str,
    /// "returned", or the panic's message.
    pub cause: String,
}

impl Health {
    /// `Ok` while every role runs; otherwise the first failure.
    pub fn check(&self) -> Result<(), RoleFailure> {
        match self.lock().first() {
            Some(f) => Err(f.clone()),
            None => Ok(()),
        }
    }

    /// Names of the roles that failed, in the order they did.
    pub fn failed_roles(&self) -> Vec<&'static str> {
        self.lock().iter().map(|f| f.role).collect()
    }

    /// Records what the latest write to Redis said (`None`: it was taken); whether that
    /// differs from before, so a change is logged once rather than at every attempt.
    pub fn redis_says(&self, now: Option<Trouble>) -> bool {
        // A poisoned lock only means a thread panicked while setting it; the value is whole.
        let mut redis = self.redis.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *redis, now) != now
    }

    /// Why Redis refused the latest write, if it did.
    pub fn redis(&self) -> Option<Trouble> {
        *self.redis.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, failure: RoleFailure) {
        self.lock().push(failure);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RoleFailure>> {
        // A poisoned lock only means a thread panicked while pushing; the list is still whole.
        self.failed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The roles of one process.
pub struct Roles {
    health: Arc<Health>,
    shutdown: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl Roles {
    /// No roles yet; `shutdown` stops them all, and is cancelled when one fails.
    pub fn new(health: Arc<Health>, shutdown: CancellationToken) -> Self {
        Self {
            health,
            shutdown,
            tasks: Vec::new(),
        }
    }

    /// Starts `role`, which should run until the shutdown token is cancelled.
    pub fn spawn<F>(&mut self, name: &'static str, role: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (health, shutdown) = (self.health.clone(), self.shutdown.clone());
        let task = tokio::spawn(async move {
            let ended = AssertUnwindSafe(role).catch_unwind().await;
            let cause = match ended {
                Ok(()) if shutdown.is_cancelled() => return,
                Ok(()) => "returned".to_owned(),
                Err(panic) => panic_message(panic.as_ref()),
            };
            if shutdown.is_cancelled() {
                tracing::error!(role = name, %cause, "role failed while stopping");
                return;
            }
            tracing::error!(
                role = name,
                %cause,
                "role ended before shutdown; the process stops so that it is restarted"
            );
            health.record(RoleFailure { role: name, cause });
            shutdown.cancel();
        });
        self.tasks.push((name, task));
    }

    /// Waits until shutdown (asked for, or caused by a failed role), then for every role to
    /// stop at its next safe point. The first role that failed, if one did.
    pub async fn run_until_stopped(self) -> Result<(), RoleFailure> {
        self.shutdown.cancelled().await;
        self.stop().await
    }

    /// Stops every role at its next safe point and waits for all of them; the first role
    /// that failed before, if one did.
    pub async fn stop(self) -> Result<(), RoleFailure> {
        self.shutdown.cancel();
        for (name, task) in self.tasks {
            match task.await {
                Ok(()) => tracing::info!(role = name, "stopped"),
                Err(e) => tracing::error!(role = name, error = %e, "ended abnormally"),
            }
        }
        self.health.check()
    }

    /// Aborts every role at once, as a crash would (tests use it).
    pub fn kill(self) {
        for (_, task) in &self.tasks {
            task.abort();
        }
    }
}

/// What a panic said, when it said it with a string.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => format!("panicked: {s}"),
        (_, Some(s)) => format!("panicked: {s}"),
        _ => "panicked".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles() -> (Roles, Arc<Health>, CancellationToken) {
        let health = Arc::new(Health::default());
        let token = CancellationToken::new();
        (Roles::new(health.clone(), token.clone()), health, token)
    }

    /// A role that runs until shutdown, as every real role does.
    async fn well_behaved(stop: CancellationToken) {
        stop.cancelled().await;
    }

    #[tokio::test]
    async fn roles_that_run_until_shutdown_stop_cleanly() {
        let (mut roles, health, token) = roles();
        roles.spawn("intake", well_behaved(token.clone()));
        roles.spawn("desk", well_behaved(token.clone()));
        assert_eq!(health.check(), Ok(()));
        assert_eq!(roles.stop().await, Ok(()));
        assert_eq!(health.check(), Ok(()));
    }

    #[tokio::test]
    async fn a_panicking_role_fails_readiness_and_stops_the_process() {
        let (mut roles, health, token) = roles();
        roles.spawn("intake", well_behaved(token.clone()));
        roles.spawn("desk", async {
            tokio::task::yield_now().await;
            panic!("card renderer broke");
        });
        let ended =
            tokio::time::timeout(std::time::Duration::from_secs(5), roles.run_until_stopped())
                .await
                .expect("the failure stops the process");
        let failure = ended.expect_err("a failed role makes the process fail");
        assert_eq!(failure.role, "desk");
        assert_eq!(failure.cause, "panicked: card renderer broke");
        assert!(token.is_cancelled(), "the other roles were told to stop");
        assert_eq!(health.failed_roles(), vec!["desk"]);
    }

    #[test]
    fn a_change_of_what_redis_says_is_reported_once() {
        let health = Health::default();
        assert_eq!(health.redis(), None);
        assert!(health.redis_says(Some(Trouble::OutOfMemory)));
        assert!(!health.redis_says(Some(Trouble::OutOfMemory)));
        assert_eq!(health.redis(), Some(Trouble::OutOfMemory));
        assert!(health.redis_says(Some(Trouble::Unreachable)));
        assert!(health.redis_says(None));
        assert!(!health.redis_says(None));
    }

    #[tokio::test]
    async fn a_role_that_returns_early_is_a_failure_too() {
        let (mut roles, health, _token) = roles();
        roles.spawn("http", async {});
        let failure = roles.run_until_stopped().await.expect_err("returned early");
        assert_eq!(failure.role, "http");
        assert_eq!(failure.cause, "returned");
        assert!(health.check().is_err());
    }
}
