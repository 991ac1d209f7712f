//! One tipline process: builds the shared parts, starts every role as a supervised task
//! (HTTP server, each enabled channel's receiver, intake, draft sweeper, desk and SLA timers,
//! notifier, forwarder, weekly report, retention purge, background reseal), and stops them on
//! one shutdown signal. Each loop stops only between units of work; a role that ends or panics
//! before shutdown stops the process with an error ([`crate::supervise`]).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::config::{Secrets, Settings};
use crate::consumer::Consumer;
use crate::intake::{self, Intake};
use crate::supervise::{RoleFailure, Roles};

pub use crate::clock::Clock;
pub use crate::shared::{Options, Shared};

/// A running process.
pub struct App {
    /// Address the HTTP server listens on.
    pub http_addr: SocketAddr,
    /// The shared parts (tests read the store and clock through it).
    pub shared: Arc<Shared>,
    shutdown: CancellationToken,
    roles: Roles,
}

impl App {
    /// Builds everything and starts every role. Fails when Redis cannot be reached or the
    /// locale files are broken.
    pub async fn start(
        settings: Settings,
        secrets: Secrets,
        opts: Options,
    ) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared::build(settings, &secrets, &opts).await?);
        shared
            .store
            .ensure_inbox()
            .await
            .context("creating the inbox")?;
        let shutdown = CancellationToken::new();
        let mut roles = Roles::new(shared.health.clone(), shutdown.clone());

        let listener = tokio::net::TcpListener::bind(&shared.settings.http.listen)
            .await
            .with_context(|| format!("binding http.listen {}", shared.settings.http.listen))?;
        let http_addr = listener.local_addr()?;
        // The receiving edge's view of Redis, shared by the webhooks and the pollers.
        let outage = Arc::new(crate::outage::Outage::new(shared.clone()));
        let router = crate::http::router(
            shared.clone(),
            outage.clone(),
            secrets
                .triage_api_token
                .as_ref()
                .map(|s| s.expose_secret().to_owned()),
        );
        let token = shutdown.clone();
        roles.spawn("http", async move {
            let res = axum::serve(listener, router)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await;
            if let Err(e) = res {
                tracing::error!(error = %e, "http server failed");
            }
        });

        // Each channel registers or removes its webhook, or gives its polling loop.
        for channel in shared.channels.enabled() {
            let receiver = channel
                .start(shared.store.clone(), outage.clone(), shutdown.clone())
                .await?;
            if let Some(receiver) = receiver {
                roles.spawn(receiver.role, receiver.task);
            }
        }
        if shared.settings.desk.enabled && shared.tg.is_some() {
            let desk =
                Consumer::new(shared.clone(), crate::desk::Desk::new(shared.clone())).await?;
            roles.spawn("desk", desk.run(shutdown.clone()));
            roles.spawn(
                "sla",
                crate::desk::sla::run(shared.clone(), opts.sweep_every, shutdown.clone()),
            );
            roles.spawn(
                "summary",
                crate::desk::summary::run(shared.clone(), opts.sweep_every, shutdown.clone()),
            );
        }
        if shared.settings.notify.enabled && shared.tg.is_some() {
            let notify =
                Consumer::new(shared.clone(), crate::notify::Notify::new(shared.clone())).await?;
            roles.spawn("notify", notify.run(shutdown.clone()));
        }
        if shared.settings.triage.enabled {
            let secret = secrets
                .triage_secret
                .as_ref()
                .context("TIPLINE_TRIAGE_SECRET is not set")?;
            let forward = crate::forward::Forwarder::new(
                shared.clone(),
                secret.expose_secret().as_bytes(),
                shared.links.clone(),
            )?
            .worker()
            .await?;
            roles.spawn("forward", forward.run(shutdown.clone()));
        }
        if shared.settings.admin.weekly_report && shared.tg.is_some() {
            roles.spawn(
                "weekly",
                crate::admin::run_weekly(shared.clone(), opts.sweep_every, shutdown.clone()),
            );
        }
        if shared.settings.retention.enabled {
            roles.spawn(
                "retention",
                crate::retention::run(shared.clone(), opts.sweep_every, shutdown.clone()),
            );
        }
        // After a rotation of the route key, the long-kept sealed values are sealed again
        // under the new one in the background, so that the retired keys can go.
        if !secrets.retired_route_keys.is_empty() {
            roles.spawn(
                "reseal",
                crate::reseal::run(shared.clone(), opts.sweep_every, shutdown.clone()),
            );
        }
        let intake = Intake::new(shared.clone()).await?;
        roles.spawn("intake", intake.run(shutdown.clone()));
        roles.spawn(
            "sweeper",
            intake::run_sweeper(shared.clone(), opts.sweep_every, shutdown.clone()),
        );
        tracing::info!(%http_addr, "tipline started");
        Ok(Self {
            http_addr,
            shared,
            shutdown,
            roles,
        })
    }

    /// A token that stops the app when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops every role at its next safe point and waits for all of them; the first role
    /// that had failed before, if one had.
    pub async fn stop(self) -> Result<(), RoleFailure> {
        self.roles.stop().await
    }

    /// Runs until the shutdown token is cancelled (a signal, or a role that failed), then
    /// stops; the first role that failed, if one did.
    pub async fn run_until_stopped(self) -> Result<(), RoleFailure> {
        self.roles.run_until_stopped().await
    }

    /// Aborts every role at once, as a crash would (tests use it).
    pub fn kill(self) {
        self.roles.kill();
    }
}
