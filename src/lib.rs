//! tipline: a confidential crime-tip line for Vietnamese police, inside Telegram.
//!
//! - [`audit`]: the hash-chained trail of officer actions and its verification.
//! - [`config`]: settings from `config/tipline.toml` and the environment; secrets.
//! - [`i18n`]: Vietnamese and English texts from `locales/*.ftl`.
//! - [`codes`]: receipt codes `TB-XXXX-XXXX`.
//! - [`privacy`]: aliases for platform ids, sealed routes back to citizens.
//! - [`conversation`]: the citizen dialogue as a pure state machine.
//! - [`triage`]: priority of a submitted tip.
//! - [`store`]: everything kept in Redis (inbox, conversations, tips, events).
//! - [`channels`]: platform adapters (Telegram: polling, webhook, sending).
//! - [`intake`]: the worker that runs updates through the conversation in order.
//! - [`consumer`]: the loop shared by every consumer group on the events stream.
//! - [`desk`]: officer cards in the duty groups.
//! - [`notify`]: notices to citizens when their tip changes state.
//! - [`http`]: the axum server (webhook, health).
//! - [`app`]: wiring of one process, start and graceful shutdown.

pub mod app;
pub mod audit;
pub mod channels;
pub mod codes;
pub mod config;
pub mod consumer;
pub mod conversation;
pub mod desk;
pub mod http;
pub mod i18n;
pub mod intake;
pub mod notify;
pub mod privacy;
pub mod store;
pub mod telemetry;
pub mod triage;
