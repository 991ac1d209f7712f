//! tipline: a confidential crime-tip line for Vietnamese police, inside Telegram and Zalo.
//!
//! - [`audit`]: the hash-chained trail of officer actions and its verification.
//! - [`config`]: settings from `config/tipline.toml` and the environment; secrets.
//! - [`i18n`]: Vietnamese and English texts from `locales/*.ftl`.
//! - [`codes`]: receipt codes `TB-XXXX-XXXX`.
//! - [`privacy`]: aliases for platform ids, sealed routes back to citizens, sealed inbox entries
//!   and keyed dedupe marks (`v1.<kid>.…`, keys derived from the route key).
//! - [`scrub`]: evidence without metadata (EXIF, XMP, GPS removed), safe names, allowed types.
//! - [`report`]: what a report is made of (place, evidence files), below the conversation and the store.
//! - [`conversation`]: the citizen dialogue as a pure state machine.
//! - [`buttons`]: what every button sends back, and its wire form (one encode, one decode).
//! - [`text`]: Vietnamese text for matching: tone folding, diacritics, keyword pattern forms.
//! - [`rules`]: keyword rules, near-duplicate text, personal-data recognisers, defanging of links.
//! - [`triage`]: the triage decision on a submitted tip (priority, duplicate, why).
//! - [`store`]: everything kept in Redis (inbox, conversations, tips, events).
//! - [`events`]: the typed tip events and their fields on the events stream (the contract).
//! - [`channels`]: the citizen channel trait and its registry; Telegram and Zalo implement it.
//! - [`intake`]: the worker that runs updates through the conversation in order.
//! - [`lanes`]: the engine: each key's items in order, different keys at once.
//! - [`consumer`]: the loop shared by every consumer group on the events stream.
//! - [`desk`]: officer cards in the duty groups (or, when a group refuses them, the supervisors').
//! - [`notify`]: notices to citizens when their tip changes state.
//! - [`forward`]: signed, ordered, retried delivery of events to the triage service.
//! - [`callback`]: the triage service's calls back (acknowledge, ask, note, close).
//! - [`retention`]: the purge of tips past their retention, tombstones, trimmed streams.
//! - [`reseal`]: long-kept sealed values sealed again under the current route key, in the background.
//! - [`export`]: weekly tip logs (CSV, XLSX, JSONL) and their summary.
//! - [`render`]: Hòm thư QR posters and charts (SVG, PNG).
//! - [`metrics`]: Prometheus counters and backlog gauges.
//! - [`http`]: the axum server (webhook, callback API, evidence links, health, metrics).
//! - [`admin`]: `/export` and `/stats` for admins, the weekly report.
//! - [`posters`]: Hòm thư posters for every configured mailbox.
//! - [`clock`]: the app's clock, which tests move forward instead of waiting.
//! - [`shared`]: what every role of a process shares (settings, store, clients, clock).
//! - [`supervise`]: roles as supervised tasks; a role that dies stops the process.
//! - [`outage`]: Redis out of memory or down: refused updates counted, citizens told once.
//! - [`app`]: wiring of one process, start and graceful shutdown.
//! - [`cli`]: the command line, one file per subcommand.

pub mod admin;
pub mod app;
pub mod audit;
pub mod buttons;
pub mod callback;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod codes;
pub mod config;
pub mod consumer;
pub mod conversation;
pub mod desk;
pub mod events;
pub mod export;
pub mod forward;
pub mod http;
pub mod i18n;
pub mod intake;
pub mod lanes;
pub mod links;
pub mod metrics;
pub mod notify;
pub mod outage;
pub mod outbound;
pub mod posters;
pub mod privacy;
pub mod render;
pub mod report;
pub mod reseal;
pub mod retention;
pub mod rules;
pub mod scrub;
pub mod shared;
pub mod store;
pub mod supervise;
pub mod telemetry;
pub mod text;
pub mod triage;
