//! Which connections are open, which of them can receive `deliver_sm`, and
//! where receipts and MO messages wait when none can.
//!
//! A real SMSC keeps what it has to deliver per account (system_id), not per
//! TCP connection: a receipt for a message submitted on a transmitter bind
//! goes to a receiver bind of the same account, and a receipt that was in
//! flight when a connection died is delivered again on the next bind. This
//! registry is that store. Connections deliver their own receipts without
//! touching it (the common transceiver case costs no lock); they come here
//! only when they bind, close, or hold receipts they cannot deliver
//! themselves.
//!
//! Items are handed to a connection through its command channel while the
//! registry lock is held, and a closing connection removes itself under the
//! same lock before draining its channel, so an item is always either in
//! exactly one connection's hands or parked here — never lost in between.

use std::collections::{HashMap, VecDeque};

use std::hash::{DefaultHasher, Hash, Hasher};

use bytes::Bytes;
use carrier_protocol::smpp::session::BindKind;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::mpsc::error::SendError;

use super::outgoing::{Outgoing, Scheduled};

/// An ESME account name, as bound (`system_id` octets).
pub(crate) type SystemId = Bytes;

/// A connection's id, unique within the simulator (the `conn` of records).
pub(crate) type ConnId = u64;

/// What the simulator asks of a connection task.
#[derive(Debug)]
pub(crate) enum ConnCommand {
    /// Deliver these (receipts of this connection's account, or MO).
    Deliver(Vec<Scheduled>),
    /// Close at once, without unbinding.
    Drop,
    /// Unbind gracefully (the simulator is shutting down).
    Unbind,
}

#[derive(Debug)]
struct Entry {
    tx: UnboundedSender<ConnCommand>,
    /// Set once bound.
    bound: Option<(SystemId, BindKind)>,
}

/// A stable hash of an MO segment's (source, destination) pair.
fn conversation_key(item: &Scheduled) -> u64 {
    let mut hasher = DefaultHasher::new();
    if let Outgoing::Mo(sm) = &item.item {
        sm.source_addr.as_bytes().hash(&mut hasher);
        sm.destination_addr.as_bytes().hash(&mut hasher);
    }
    hasher.finish()
}

/// Why a bind was refused by the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BindRefusal {
    /// `max_connections` bound sessions exist already.
    TooMany,
}

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    conns: HashMap<ConnId, Entry>,
    /// Bound connections that accept `deliver_sm`, per account.
    receivers: HashMap<SystemId, Vec<ConnId>>,
    /// Round-robin position for handing receipts to an account's receivers.
    turn: usize,
    /// Receipts waiting for a receiving bind of their account.
    parked: HashMap<SystemId, VecDeque<Scheduled>>,
    /// MO segments waiting for any receiving bind.
    parked_mo: VecDeque<Scheduled>,
}

impl Registry {
    /// A new connection (not bound yet).
    pub(crate) fn add(&mut self, id: ConnId, tx: UnboundedSender<ConnCommand>) {
        self.conns.insert(id, Entry { tx, bound: None });
    }

    /// Bound sessions now.
    pub(crate) fn bound_count(&self) -> usize {
        self.conns.values().filter(|e| e.bound.is_some()).count()
    }

    /// Connection `id` bound as `kind` for `system_id`. Returns what was
    /// parked for it if it can receive. `max` caps bound sessions.
    pub(crate) fn bind(
        &mut self,
        id: ConnId,
        system_id: &SystemId,
        kind: BindKind,
        max: Option<usize>,
    ) -> Result<Vec<Scheduled>, BindRefusal> {
        if max.is_some_and(|max| self.bound_count() >= max) {
            return Err(BindRefusal::TooMany);
        }
        let Some(entry) = self.conns.get_mut(&id) else {
            // Not registered (cannot happen: added at accept); nothing to hand over.
            return Ok(Vec::new());
        };
        entry.bound = Some((system_id.clone(), kind));
        if !kind.esme_receives() {
            return Ok(Vec::new());
        }
        self.receivers
            .entry(system_id.clone())
            .or_default()
            .push(id);
        let mut items: Vec<Scheduled> = self
            .parked
            .remove(system_id)
            .map(Vec::from)
            .unwrap_or_default();
        items.extend(self.parked_mo.drain(..));
        Ok(items)
    }

    /// Connection `id` is gone; after this nothing is sent to it.
    pub(crate) fn remove(&mut self, id: ConnId) {
        let Some(entry) = self.conns.remove(&id) else {
            return;
        };
        if let Some((system_id, _)) = entry.bound
            && let Some(list) = self.receivers.get_mut(&system_id)
        {
            list.retain(|&c| c != id);
            if list.is_empty() {
                self.receivers.remove(&system_id);
            }
        }
    }

    /// Hands receipts of `system_id` to one of its receiving binds, or parks
    /// them until one binds.
    pub(crate) fn route_receipts(&mut self, system_id: &SystemId, items: Vec<Scheduled>) {
        if items.is_empty() {
            return;
        }
        let target = self
            .receivers
            .get(system_id)
            .filter(|list| !list.is_empty())
            .map(|list| list[self.turn % list.len()]);
        self.turn = self.turn.wrapping_add(1);
        match target.and_then(|id| self.conns.get(&id)) {
            Some(entry) => {
                if let Err(failed) = entry.tx.send(ConnCommand::Deliver(items))
                    && let ConnCommand::Deliver(items) = failed.0
                {
                    // The task ended without removing itself (it panicked):
                    // keep the items for the next bind.
                    self.parked
                        .entry(system_id.clone())
                        .or_default()
                        .extend(items);
                }
            }
            None => self
                .parked
                .entry(system_id.clone())
                .or_default()
                .extend(items),
        }
    }

    /// Hands MO segments to a receiving bind of any account, or parks them.
    /// The bind is chosen by the conversation (source and destination
    /// address), so while the set of binds is stable one customer's
    /// messages to one number travel on one connection, in order — a menu
    /// reply never overtakes the message before it by taking another link.
    pub(crate) fn route_mo(&mut self, items: Vec<Scheduled>) {
        if items.is_empty() {
            return;
        }
        let mut all: Vec<ConnId> = self.receivers.values().flatten().copied().collect();
        if all.is_empty() {
            self.parked_mo.extend(items);
            return;
        }
        all.sort_unstable();
        let mut batches: HashMap<ConnId, Vec<Scheduled>> = HashMap::new();
        for item in items {
            let pick = (conversation_key(&item) % all.len() as u64) as usize;
            batches.entry(all[pick]).or_default().push(item);
        }
        for (id, items) in batches {
            let sent = match self.conns.get(&id) {
                Some(entry) => entry.tx.send(ConnCommand::Deliver(items)),
                None => Err(SendError(ConnCommand::Deliver(items))),
            };
            if let Err(SendError(ConnCommand::Deliver(items))) = sent {
                self.parked_mo.extend(items);
            }
        }
    }

    /// Sends a command to every connection; returns how many were told.
    pub(crate) fn broadcast(&self, make: impl Fn() -> ConnCommand) -> usize {
        self.conns
            .values()
            .filter(|e| e.tx.send(make()).is_ok())
            .count()
    }

    /// Items parked (receipts and MO) — for tests and the CLI's summary.
    pub(crate) fn parked_len(&self) -> usize {
        self.parked.values().map(VecDeque::len).sum::<usize>() + self.parked_mo.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use tokio::sync::mpsc::unbounded_channel;

    use carrier_protocol::smpp::COctetString;
    use carrier_protocol::smpp::pdu::DeliverSm;

    use super::*;

    fn item() -> Scheduled {
        Scheduled {
            due: Instant::now(),
            item: Outgoing::Mo(Box::default()),
        }
    }

    fn delivered(rx: &mut tokio::sync::mpsc::UnboundedReceiver<ConnCommand>) -> usize {
        let mut n = 0;
        while let Ok(cmd) = rx.try_recv() {
            if let ConnCommand::Deliver(items) = cmd {
                n += items.len();
            }
        }
        n
    }

    #[test]
    fn receipts_park_until_a_receiver_of_the_account_binds() {
        let acct = SystemId::from_static(b"gw");
        let mut reg = Registry::default();
        let (tx1, mut rx1) = unbounded_channel();
        reg.add(1, tx1);
        assert!(
            reg.bind(1, &acct, BindKind::Transmitter, None)
                .expect("no cap")
                .is_empty()
        );
        reg.route_receipts(&acct, vec![item(), item()]);
        assert_eq!(delivered(&mut rx1), 0, "a transmitter gets no receipts");
        assert_eq!(reg.parked_len(), 2);

        let (tx2, mut rx2) = unbounded_channel();
        reg.add(2, tx2);
        let other = SystemId::from_static(b"other");
        assert!(
            reg.bind(2, &other, BindKind::Receiver, None)
                .expect("no cap")
                .is_empty(),
            "another account's receipts stay parked"
        );
        let (tx3, _rx3) = unbounded_channel();
        reg.add(3, tx3);
        let handed = reg
            .bind(3, &acct, BindKind::Transceiver, None)
            .expect("no cap");
        assert_eq!(handed.len(), 2);
        assert_eq!(reg.parked_len(), 0);
        reg.route_receipts(&acct, vec![item()]);
        assert_eq!(delivered(&mut rx2), 0);
        reg.remove(3);
        reg.route_receipts(&acct, vec![item()]);
        assert_eq!(reg.parked_len(), 1, "parked again once the receiver left");
    }

    #[test]
    fn mo_goes_to_any_receiver_and_binds_are_capped() {
        let mut reg = Registry::default();
        reg.route_mo(vec![item()]);
        assert_eq!(reg.parked_len(), 1);
        let (tx, mut rx) = unbounded_channel();
        reg.add(1, tx);
        let handed = reg
            .bind(1, &SystemId::from_static(b"a"), BindKind::Receiver, Some(1))
            .expect("first bind fits");
        assert_eq!(handed.len(), 1);
        reg.route_mo(vec![item(), item()]);
        assert_eq!(delivered(&mut rx), 2);
        let (tx2, _rx2) = unbounded_channel();
        reg.add(2, tx2);
        assert_eq!(
            reg.bind(2, &SystemId::from_static(b"a"), BindKind::Receiver, Some(1)),
            Err(BindRefusal::TooMany)
        );
        assert_eq!(reg.broadcast(|| ConnCommand::Drop), 2);
    }

    #[test]
    fn one_conversation_stays_on_one_connection() {
        let mo = |from: &str| Scheduled {
            due: Instant::now(),
            item: Outgoing::Mo(Box::new(DeliverSm {
                source_addr: COctetString::try_from(from).unwrap_or_default(),
                destination_addr: COctetString::try_from("15551230001").unwrap_or_default(),
                ..DeliverSm::default()
            })),
        };
        let mut reg = Registry::default();
        let mut rxs = Vec::new();
        for id in 1..=3 {
            let (tx, rx) = unbounded_channel();
            reg.add(id, tx);
            reg.bind(
                id,
                &SystemId::from_static(b"gw"),
                BindKind::Transceiver,
                None,
            )
            .expect("no cap");
            rxs.push(rx);
        }
        for _ in 0..5 {
            reg.route_mo(vec![mo("15557654321")]);
        }
        let counts: Vec<usize> = rxs.iter_mut().map(delivered).collect();
        assert_eq!(counts.iter().sum::<usize>(), 5);
        assert!(counts.contains(&5), "all on one connection: {counts:?}");
    }
}
