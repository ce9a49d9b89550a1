//! A business number moved to another carrier (SIGHUP) takes its queued
//! messages along: a message nothing of has gone yet is sent through the
//! number's carrier of the moment, not the one it was accepted for, so
//! moving a number off a carrier that is down does not strand what waits
//! for it. A message partly sent stays with its carrier (its receipts and
//! concatenation belong there), and so does an MMS (its route is the
//! number's MMSC).

use super::*;

impl Dispatcher {
    /// Sets the numbers' SMS carriers, at start.
    pub fn set_sms_routes(&mut self, routes: std::collections::HashMap<String, String>) {
        self.sms_routes = routes;
    }

    /// Points `record` at its number's carrier of the moment, when it may
    /// move. Returns whether it moved.
    pub(super) fn follow_route(&self, record: &mut MessageRecord) -> bool {
        let Some(carrier) = self.sms_routes.get(&record.from) else {
            return false;
        };
        let untouched = record.segments.iter().all(|s| s.carrier_id.is_none());
        if *carrier == record.carrier
            || record.is_mms()
            || !untouched
            || !self.routes.contains_key(carrier)
        {
            return false;
        }
        info!(id = %record.id, from = %record.carrier, to = %carrier, "the number moved: its message follows it");
        record.carrier = carrier.clone();
        true
    }

    /// New routes: active messages of moved numbers that nothing of has
    /// gone yet are planned again for their new carrier, and parked lanes
    /// look again.
    pub(super) fn reload_routes(&mut self, routes: std::collections::HashMap<String, String>) {
        self.sms_routes = routes;
        let movable: Vec<Arc<str>> = self
            .active
            .iter()
            .filter(|(_, a)| a.outstanding == 0 && !a.attempt_started)
            .map(|(id, _)| id.clone())
            .collect();
        for id in movable {
            let Some(active) = self.active.get(&id) else {
                continue;
            };
            let mut record = active.record.clone();
            if !self.follow_route(&mut record) {
                continue;
            }
            let Some(route) = self.routes.get(&record.carrier) else {
                continue;
            };
            let parts = match route.text_max {
                Some(max) => Planned::Text(plan::text_parts(&record.text, max)),
                None => match plan::segments(
                    &record.text,
                    &record.encoding,
                    record.reference,
                    &route.plan,
                ) {
                    Ok(segments) => Planned::Sms(segments),
                    Err(e) => {
                        warn!(%id, error = %e, "the message cannot go through the number's new carrier; it stays");
                        continue;
                    }
                },
            };
            record.segments = vec![Default::default(); parts.len()];
            if let Err(e) = self.store.put_message_from(&record, Stage::ToSend) {
                warn!(%id, error = %e, "could not record the message's new carrier");
            }
            self.unsynced = true;
            if let Some(active) = self.active.get_mut(&id) {
                active.to_send = (0..parts.len() as u16).collect();
                active.parts = parts;
                active.record = record;
            }
            self.queue_in_lane(&id);
        }
        self.lanes.wake_all();
    }
}
