//! End-to-end tests: the real tipline against a real redis-server and a fake Telegram Bot API,
//! over loopback HTTP, driven through teloxide's real HTTP calls.

mod support;

mod audit;
mod desk;
mod export;
mod forward;
mod process;
mod report;
mod resilience;
mod rules;
mod status;
mod webhook;
mod zalo;
