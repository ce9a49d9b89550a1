//! An MMS the MMSC refuses for good goes out as an SMS with links to its
//! media instead (`[media] mms_fallback = "sms_link"`, the default): the
//! customer still gets the diagram, and the message's `fallback` says how
//! it went.
//!
//! The message keeps its id, its place in its conversation and its
//! validity; it becomes an SMS through its number's SMS carrier, with each
//! medium as a signed link valid for the message's remaining validity plus
//! `[media] url_ttl`. If it cannot (no SMS carrier, no public URL, a text
//! too long for SMS), it fails as the MMSC said.

use super::*;
use crate::media::UrlKey;

/// What the dispatcher needs to send a refused MMS as an SMS with links.
#[derive(Clone)]
pub struct MmsFallback {
    /// Business number → its SMS carrier.
    pub sms_carriers: std::collections::HashMap<String, String>,
    /// Signs the links.
    pub key: UrlKey,
    /// The customer-facing base of the links (`[media] public_url`).
    pub base: String,
    /// How long a link stays valid after the message's validity.
    pub url_ttl: Duration,
}

impl Dispatcher {
    /// Turns the active MMS `id`, refused for good with `status`, into an
    /// SMS with links, and queues it again. Returns whether it did.
    pub(super) fn fall_back_to_sms(&mut self, id: &Arc<str>, status: &LinkStatus) -> bool {
        let Some(fallback) = self.mms_fallback.clone() else {
            return false;
        };
        let Some(active) = self.active.get_mut(id) else {
            return false;
        };
        // An MMS is one part: the refusal answers it.
        if !active.record.is_mms() || active.outstanding > 1 {
            return false;
        }
        let record = &active.record;
        let Some(route) = fallback
            .sms_carriers
            .get(&record.from)
            .and_then(|carrier| Some((carrier, self.routes.get(carrier)?)))
        else {
            return false;
        };
        let expires = record.expires_at / 1000 + fallback.url_ttl.as_secs();
        let links: Vec<String> = record
            .media
            .iter()
            .map(|m| {
                format!(
                    "{}/v1/media/{m}?{}",
                    fallback.base,
                    fallback.key.sign(m, expires)
                )
            })
            .collect();
        let text = if record.text.is_empty() {
            links.join("\n")
        } else {
            format!("{}\n{}", record.text, links.join("\n"))
        };
        let encoding = match plan::choose_encoding(&text, &route.1.plan) {
            Ok(plan) => plan.encoding().as_str(),
            Err(_) => return false,
        };
        let Ok(segments) = plan::segments(&text, encoding, record.reference, &route.1.plan) else {
            return false;
        };
        let carrier = route.0.clone();
        let record = &mut active.record;
        info!(%id, mmsc = %record.carrier, sms = %carrier, reason = %status.message, "the MMSC refused an MMS; it goes as an SMS with links");
        record.text = text;
        record.encoding = encoding.to_owned();
        record.carrier = carrier;
        record.fallback = Some("sms_link".to_owned());
        record.segments = vec![Default::default(); segments.parts.len()];
        record.status = MessageStatus::Queued;
        record.updated_at = self.now.wall_ms;
        active.outstanding = 0;
        active.to_send = (0..segments.parts.len() as u16).collect();
        active.parts = Planned::Sms(segments);
        active.failures = 0;
        active.backoff = None;
        active.attempt_started = false;
        active.daily_reserved = false;
        if let Err(e) = self.store.put_message_from(&active.record, Stage::ToSend) {
            warn!(error = %e, %id, "could not record the fallback to SMS");
        }
        self.unsynced = true;
        self.queue_in_lane(id);
        true
    }
}
