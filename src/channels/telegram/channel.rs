//! Telegram as a [`CitizenChannel`]: inline buttons, location pins, contact cards, files kept on
//! Telegram; receives by long polling ([`super::poll`]) or by webhook (secret in the
//! `X-Telegram-Bot-Api-Secret-Token` header, refused with 401).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::HeaderMap;
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use teloxide::Bot;
use teloxide::prelude::Requester;
use teloxide::types::Update;
use tokio_util::sync::CancellationToken;

use super::{parse, send};
use crate::channels::{
    Capabilities, Choices, CitizenChannel, CitizenUpdate, Files, Outgoing, Parsed, Press, Receiver,
    SendError, Setup, Unstored, Webhook, WebhookError,
};
use crate::config::{ReceiveMode, TelegramSettings};
use crate::conversation::{EvidenceKind, Input};
use crate::i18n::Lang;
use crate::privacy::Channel;
use crate::store::{InboxKind, Store};

/// Header in which Telegram echoes the `secret_token` given to `setWebhook`.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Longest text Telegram takes in one message, in UTF-16 code units ([`crate::channels::fit`]).
pub const MAX_TEXT_CHARS: usize = crate::channels::fit::TELEGRAM_TEXT;

/// What Telegram can show.
pub const CAPABILITIES: Capabilities = Capabilities {
    choices: Choices::Buttons,
    location_pin: true,
    contact_button: true,
    files: Files::Hosted,
    file_kinds: &[
        EvidenceKind::Photo,
        EvidenceKind::Video,
        EvidenceKind::VideoNote,
        EvidenceKind::Voice,
        EvidenceKind::Audio,
        EvidenceKind::Document,
    ],
    max_text_chars: MAX_TEXT_CHARS,
    app_language: true,
    automated_notice: false,
    text_variant: None,
};

/// The Telegram channel: its client when enabled (with a token), its settings and secrets.
pub struct TelegramChannel {
    bot: Option<Bot>,
    token: Option<SecretString>,
    webhook_secret: Option<SecretString>,
    settings: TelegramSettings,
}

impl TelegramChannel {
    /// Builds the channel; its client only when it is enabled and has a token.
    pub fn build(setup: &Setup<'_>) -> anyhow::Result<Self> {
        let settings = setup.settings.telegram.clone();
        let token = setup.secrets.telegram_token.clone();
        let bot = match (&token, settings.enabled) {
            (Some(token), true) => Some(super::bot(
                token.expose_secret(),
                &settings.api_url,
                Duration::from_secs(15),
            )?),
            _ => None,
        };
        Ok(Self {
            bot,
            token,
            webhook_secret: setup.secrets.telegram_webhook_secret.clone(),
            settings,
        })
    }

    /// The Bot API client, when the channel is enabled; the officer desk and the admin commands
    /// use it too (duty groups are on Telegram by design).
    pub fn bot(&self) -> Option<&Bot> {
        self.bot.as_ref()
    }

    async fn register_webhook(&self, bot: &Bot) -> anyhow::Result<()> {
        let url =
            reqwest::Url::parse(&self.settings.webhook_url).context("telegram.webhook_url")?;
        let mut req = bot.set_webhook(url);
        req.allowed_updates = Some(vec![
            teloxide::types::AllowedUpdate::Message,
            teloxide::types::AllowedUpdate::CallbackQuery,
            teloxide::types::AllowedUpdate::MyChatMember,
        ]);
        req.secret_token = self
            .webhook_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned());
        req.await.context("setWebhook")?;
        tracing::info!("telegram webhook registered");
        Ok(())
    }
}

/// A citizen's update in channel-neutral form.
fn citizen(inb: parse::TgInbound) -> CitizenUpdate {
    CitizenUpdate {
        user_id: inb.user_id.to_string(),
        chat: inb.chat_id.to_string(),
        lang: inb.lang_code.as_deref().and_then(Lang::parse),
        typed: match &inb.input {
            Input::Text(text) => Some(text.clone()),
            _ => None,
        },
        input: Some(inb.input),
        sent_ms: inb.sent_ms,
        press: inb.callback.map(|cb| Press {
            id: cb.id,
            message: cb.message_id.map(i64::from),
        }),
    }
}

impl CitizenChannel for TelegramChannel {
    fn id(&self) -> Channel {
        Channel::Telegram
    }

    fn inbox_kind(&self) -> InboxKind {
        InboxKind::Telegram
    }

    fn seen_tag(&self) -> &'static str {
        "tg"
    }

    fn capabilities(&self) -> &Capabilities {
        &CAPABILITIES
    }

    fn enabled(&self) -> bool {
        self.bot.is_some()
    }

    /// An admin command comes first: it is also a private message, which would otherwise be a
    /// citizen's. Anything that is not a citizen's goes to the officers' side.
    fn parse(&self, body: &str) -> Result<Parsed, String> {
        let update: Update =
            serde_json::from_str(body).map_err(|_| "the body is no Telegram update".to_owned())?;
        if parse::parse_admin_command(&update).is_some() {
            return Ok(Parsed::Staff(Box::new(update)));
        }
        Ok(match parse::parse(&update) {
            Some(inb) => Parsed::Citizen(citizen(inb)),
            None => Parsed::Staff(Box::new(update)),
        })
    }

    fn send<'a>(
        &'a self,
        chat: &'a str,
        out: &'a Outgoing,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let bot = self.bot.as_ref().ok_or_else(|| {
                SendError::Refused("the Telegram channel is disabled in the configuration".into())
            })?;
            let chat: i64 = chat
                .parse()
                .map_err(|_| SendError::Refused("unreadable telegram chat id".into()))?;
            send::send(bot, chat, out).await
        })
    }

    fn press_received<'a>(&'a self, press: &'a Press) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Some(bot) = &self.bot {
                send::answer_callback(bot, &press.id).await;
            }
        })
    }

    fn press_handled<'a>(&'a self, chat: &'a str, press: &'a Press) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let (Some(bot), Some(message), Ok(chat)) = (&self.bot, press.message, chat.parse())
            else {
                return;
            };
            if let Ok(message) = i32::try_from(message) {
                send::clear_buttons(bot, chat, message).await;
            }
        })
    }

    fn webhook_path(&self) -> Option<&str> {
        (self.settings.enabled && self.settings.mode == ReceiveMode::Webhook)
            .then_some(self.settings.webhook_path.as_str())
    }

    fn webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Webhook, WebhookError> {
        let given = headers
            .get(SECRET_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        let expected = self
            .webhook_secret
            .as_ref()
            .map(|s| s.expose_secret().as_bytes())
            .unwrap_or_default();
        if expected.is_empty() || !bool::from(given.ct_eq(expected)) {
            tracing::warn!("telegram webhook call with a wrong secret refused");
            return Err(WebhookError::WrongSecret { status: 401 });
        }
        let update: Update = serde_json::from_slice(body).map_err(|e| {
            // Only the position: serde's message can quote the citizen's text.
            tracing::warn!(
                line = e.line(),
                column = e.column(),
                bytes = body.len(),
                "telegram webhook body is not an update"
            );
            WebhookError::BadBody("body is not a Telegram update")
        })?;
        Ok(Webhook::Store {
            key: update.id.0.to_string(),
        })
    }

    fn start<'a>(
        &'a self,
        store: Store,
        unstored: Arc<dyn Unstored>,
        shutdown: CancellationToken,
    ) -> BoxFuture<'a, anyhow::Result<Option<Receiver>>> {
        Box::pin(async move {
            let (Some(bot), Some(token)) = (&self.bot, &self.token) else {
                return Ok(None);
            };
            let tgs = &self.settings;
            match tgs.mode {
                ReceiveMode::Polling => {
                    // Its own client: a long poll outlasts the senders' request timeout.
                    let poll_timeout = Duration::from_secs(u64::from(tgs.poll_timeout_secs) + 15);
                    let poller = super::bot(token.expose_secret(), &tgs.api_url, poll_timeout)?;
                    let task =
                        super::poll::run(poller, store, unstored, tgs.poll_timeout_secs, shutdown);
                    Ok(Some(Receiver {
                        role: "telegram-poll",
                        task: Box::pin(task),
                    }))
                }
                ReceiveMode::Webhook if !tgs.webhook_url.is_empty() => {
                    self.register_webhook(bot).await?;
                    Ok(None)
                }
                ReceiveMode::Webhook => Ok(None),
            }
        })
    }
}
