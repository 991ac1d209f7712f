//! Receiving Zalo events with `getUpdates` (development and sites without a public HTTPS
//! address). Zalo returns one update per call and has no offset: an update is gone once
//! returned, so it is stored in the inbox before the next call, retrying Redis until it takes
//! it (telling [`Unstored`] each time Redis refuses it, so its sender hears that the line is
//! briefly unavailable). The message id is the inbox key; the intake's `seen` mark makes a
//! repeat harmless.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::client::ZaloClient;
use super::parse::{self, ParseError};
use crate::channels::Unstored;
use crate::privacy::Channel;
use crate::store::{InboxKind, Store};

/// Polls until `shutdown`, telling `unstored` what Redis refused.
pub async fn run(
    client: ZaloClient,
    store: Store,
    unstored: Arc<dyn Unstored>,
    timeout_secs: u64,
    shutdown: CancellationToken,
) {
    tracing::info!("zalo polling started");
    loop {
        let got = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = client.get_updates(timeout_secs) => r,
        };
        let update = match got {
            Ok(Some(u)) => u,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "zalo getUpdates failed; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
        };
        let key = match parse::parse_value(&update) {
            Ok(inb) => inb.message_id,
            Err(ParseError::NotACitizen(why)) => {
                tracing::debug!(why, "zalo update not from a citizen; ignored");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "zalo update not understood; dropped");
                continue;
            }
        };
        let body = update.to_string();
        let mut tries = 0u32;
        loop {
            let Err(e) = store.inbox_append(InboxKind::Zalo, &key, &body).await else {
                unstored.stored();
                break;
            };
            tries += 1;
            unstored.refused(Channel::Zalo, &[&body], &e);
            // Even when stopping: this update exists nowhere else.
            if tries >= 30 && shutdown.is_cancelled() {
                tracing::error!("zalo update lost: Redis stayed down while stopping");
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    tracing::info!("zalo polling stopped");
}
