//! The Zalo Bot Platform as a [`CitizenChannel`]: text only, so choices are numbered menus and a
//! phone number is typed; images and voice notes arrive as links that expire; the first
//! message of a conversation says the citizen talks to an automated system (Zalo's terms).
//! Receives by webhook (secret in the `X-Bot-Api-Secret-Token` header, refused with 403) or by
//! `getUpdates` ([`super::poll`]).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::HeaderMap;
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;

use super::client::ZaloClient;
use super::parse::{self, ParseError, ZaloInbound, ZaloKind};
use super::{MAX_TEXT_CHARS, SECRET_HEADER, menu, verify_secret};
use crate::channels::{
    Capabilities, Choices, CitizenChannel, CitizenUpdate, Files, Outgoing, Parsed, Receiver,
    SendError, Setup, Unstored, Webhook, WebhookError,
};
use crate::config::{ReceiveMode, ZaloSettings};
use crate::conversation::{EvidenceKind, Input};
use crate::privacy::Channel;
use crate::store::{InboxKind, Store};

/// What the Zalo Bot Platform can show.
pub const CAPABILITIES: Capabilities = Capabilities {
    choices: Choices::NumberedMenu,
    location_pin: false,
    contact_button: false,
    files: Files::Links,
    file_kinds: &[EvidenceKind::Photo, EvidenceKind::Voice],
    max_text_chars: MAX_TEXT_CHARS,
    app_language: false,
    automated_notice: true,
    text_variant: Some("zalo"),
};

/// The Zalo channel: its client when enabled (with a token), its settings and secret, and the
/// hint written under every numbered menu.
pub struct ZaloChannel {
    client: Option<ZaloClient>,
    webhook_secret: Option<SecretString>,
    settings: ZaloSettings,
    menu_hint: String,
}

impl ZaloChannel {
    /// Builds the channel; its client only when it is enabled and has a token.
    pub fn build(setup: &Setup<'_>) -> anyhow::Result<Self> {
        let settings = setup.settings.zalo.clone();
        let client = match (settings.enabled, setup.secrets.zalo_token_str()) {
            (true, Some(token)) => Some(ZaloClient::new(
                &settings.api_url,
                token,
                Duration::from_secs(u64::from(settings.poll_timeout_secs) + 15),
            )?),
            _ => None,
        };
        Ok(Self {
            client,
            webhook_secret: setup.secrets.zalo_webhook_secret.clone(),
            menu_hint: setup.texts.get(setup.default_lang, "zalo-menu-hint"),
            settings,
        })
    }

    /// The API client, when the channel is enabled.
    pub fn client(&self) -> Option<&ZaloClient> {
        self.client.as_ref()
    }

    fn secret(&self) -> &str {
        self.webhook_secret
            .as_ref()
            .map(|s| s.expose_secret())
            .unwrap_or_default()
    }
}

/// A citizen's event in channel-neutral form. A sticker and unsupported content are inputs of
/// their own, so the conversation answers them with a friendly note.
fn citizen(inb: ZaloInbound) -> CitizenUpdate {
    let input = match &inb.kind {
        ZaloKind::Sticker => Some(Input::Sticker),
        ZaloKind::Unsupported => Some(Input::Unsupported),
        kind => parse::to_input(kind),
    };
    CitizenUpdate {
        typed: match inb.kind {
            ZaloKind::Text(text) => Some(text),
            _ => None,
        },
        user_id: inb.user_id,
        chat: inb.chat_id,
        lang: None,
        input,
        press: None,
        // Zalo's `date` (0 when missing: then the intake counts it when it is worked).
        sent_ms: (inb.date_ms > 0).then_some(inb.date_ms),
    }
}

impl CitizenChannel for ZaloChannel {
    fn id(&self) -> Channel {
        Channel::Zalo
    }

    fn inbox_kind(&self) -> InboxKind {
        InboxKind::Zalo
    }

    fn seen_tag(&self) -> &'static str {
        "zl"
    }

    fn capabilities(&self) -> &Capabilities {
        &CAPABILITIES
    }

    fn enabled(&self) -> bool {
        self.client.is_some()
    }

    fn parse(&self, body: &str) -> Result<Parsed, String> {
        parse::parse(body.as_bytes())
            .map(|inb| Parsed::Citizen(citizen(inb)))
            .map_err(|e| e.to_string())
    }

    /// The text with the reply's choices as a numbered menu under it, in parts of at most
    /// 2000 characters.
    fn send<'a>(
        &'a self,
        chat: &'a str,
        out: &'a Outgoing,
    ) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let client = self
                .client
                .as_ref()
                .ok_or_else(|| SendError::Refused("the Zalo channel is disabled".into()))?;
            client
                .send_message(chat, &menu::render_text(out, &self.menu_hint))
                .await
        })
    }

    fn webhook_path(&self) -> Option<&str> {
        (self.settings.enabled && self.settings.mode == ReceiveMode::Webhook)
            .then_some(self.settings.webhook_path.as_str())
    }

    fn webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<Webhook, WebhookError> {
        let given = headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok());
        if !verify_secret(given, self.secret()) {
            tracing::warn!("zalo webhook call with a wrong secret refused");
            return Err(WebhookError::WrongSecret { status: 403 });
        }
        match parse::parse(body) {
            Ok(inb) => Ok(Webhook::Store {
                key: inb.message_id,
            }),
            Err(ParseError::NoMessage) => {
                // Another kind of event (e.g. a follow): understood, nothing for the intake.
                tracing::debug!("zalo event without a message; ignored");
                Ok(Webhook::Ignore)
            }
            Err(ParseError::NotACitizen(why)) => {
                // Understood and not ours: acknowledged, so Zalo does not send it again.
                tracing::debug!(why, "zalo event not from a citizen; ignored");
                Ok(Webhook::Ignore)
            }
            Err(e) => {
                tracing::warn!(error = %e, bytes = body.len(), "zalo webhook body is not an event");
                Err(WebhookError::BadBody("body is not a Zalo event"))
            }
        }
    }

    fn start<'a>(
        &'a self,
        store: Store,
        unstored: Arc<dyn Unstored>,
        shutdown: CancellationToken,
    ) -> BoxFuture<'a, anyhow::Result<Option<Receiver>>> {
        Box::pin(async move {
            let Some(client) = &self.client else {
                return Ok(None);
            };
            let zs = &self.settings;
            match zs.mode {
                ReceiveMode::Polling => {
                    if let Err(e) = client.delete_webhook().await {
                        tracing::warn!(error = %e, "zalo deleteWebhook failed; polling anyway");
                    }
                    let task = super::poll::run(
                        client.clone(),
                        store,
                        unstored,
                        u64::from(zs.poll_timeout_secs),
                        shutdown,
                    );
                    Ok(Some(Receiver {
                        role: "zalo-poll",
                        task: Box::pin(task),
                    }))
                }
                ReceiveMode::Webhook if !zs.webhook_url.is_empty() => {
                    client
                        .set_webhook(&zs.webhook_url, self.secret())
                        .await
                        .context("zalo setWebhook")?;
                    tracing::info!("zalo webhook registered");
                    Ok(None)
                }
                ReceiveMode::Webhook => Ok(None),
            }
        })
    }
}
