//! End-to-end tests: the real tipline against a real redis-server and a fake Telegram Bot API,
//! over loopback HTTP, driven through teloxide's real HTTP calls.

/// The test kit (`testkit/`): redis launcher, fakes, `spawn_app()`; shared with the benches.
use tipline_testkit as support;

mod audit;
mod availability;
mod canary;
mod citizens;
mod desk;
mod desk_fallback;
mod duty_boundary;
mod evidence;
mod export;
mod forward;
mod group_limits;
mod hostile;
mod inbox_dlq;
mod limits;
mod process;
mod redis_down;
mod relay_limits;
mod report;
mod resilience;
mod retention;
mod rotation;
mod rules;
mod status;
mod upgrade;
mod webhook;
mod zalo;
