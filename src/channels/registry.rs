//! The channels of one process, built once from the settings and secrets and held by
//! [`crate::shared::Shared`]. Adding a channel is one line in [`Registry::build`].

use std::sync::Arc;

use super::{Capabilities, CitizenChannel, telegram, zalo};
use crate::config::{Secrets, Settings};
use crate::i18n::{Lang, Texts};
use crate::privacy::Channel;
use crate::store::InboxKind;

/// What a channel is built from.
pub struct Setup<'a> {
    /// The configuration (each channel reads its own section).
    pub settings: &'a Settings,
    /// Tokens and webhook secrets.
    pub secrets: &'a Secrets,
    /// Locale texts (e.g. the numbered menus' hint).
    pub texts: &'a Texts,
    /// The language of texts that go to everyone alike.
    pub default_lang: Lang,
}

/// Every channel this version knows, enabled or not, in registration order.
pub struct Registry {
    channels: Vec<Arc<dyn CitizenChannel>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.channels.iter().map(|c| (c.id(), c.enabled())))
            .finish()
    }
}

impl Registry {
    /// Builds every channel; fails when a client cannot be built.
    pub fn build(setup: &Setup<'_>) -> anyhow::Result<Self> {
        let channels: Vec<Arc<dyn CitizenChannel>> = vec![
            Arc::new(telegram::TelegramChannel::build(setup)?),
            Arc::new(zalo::ZaloChannel::build(setup)?),
        ];
        Ok(Self { channels })
    }

    /// Every channel, enabled or not.
    pub fn all(&self) -> impl Iterator<Item = &dyn CitizenChannel> {
        self.channels.iter().map(|c| c.as_ref())
    }

    /// The channels that run.
    pub fn enabled(&self) -> impl Iterator<Item = &dyn CitizenChannel> {
        self.all().filter(|c| c.enabled())
    }

    /// The channel a stored identifier names.
    pub fn get(&self, channel: Channel) -> Option<&dyn CitizenChannel> {
        self.all().find(|c| c.id() == channel)
    }

    /// The channel whose updates an inbox entry of `kind` holds.
    pub fn by_inbox(&self, kind: InboxKind) -> Option<&dyn CitizenChannel> {
        self.all().find(|c| c.inbox_kind() == kind)
    }

    /// What `channel` can show. Every [`Channel`] is registered, so the fallback (plain text,
    /// nothing else) is never used in practice; it keeps a forgotten registration from
    /// panicking.
    pub fn capabilities(&self, channel: Channel) -> Capabilities {
        self.get(channel)
            .map_or(Capabilities::PLAIN, |c| *c.capabilities())
    }

    /// The channel of type `T`, for a caller that needs one platform by design (the officer
    /// desk needs Telegram's client).
    pub fn find<T: CitizenChannel>(&self) -> Option<&T> {
        self.all()
            .find_map(|c| (c as &dyn std::any::Any).downcast_ref::<T>())
    }
}
