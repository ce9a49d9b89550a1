//! The dispatcher on tokio: the one task that feeds the state machine its
//! inputs (API commands, link events, finished syncs) with the clock's
//! time, sleeps until its next deadline, and carries out its effects (group
//! commits, receipt acknowledgements, lease syncs) in tasks of their own.

use super::*;

/// Runs a [`Dispatcher`].
pub struct DispatcherTask {
    machine: Dispatcher,
    store: Store,
    commands: mpsc::Receiver<Command>,
    transport: mpsc::Receiver<LinkEvent>,
    leases_tx: mpsc::UnboundedSender<LeaseOutcome>,
    leases: mpsc::UnboundedReceiver<LeaseOutcome>,
    syncs_tx: mpsc::UnboundedSender<u64>,
    syncs: mpsc::UnboundedReceiver<u64>,
    counted_tx: mpsc::UnboundedSender<usize>,
    counted: mpsc::UnboundedReceiver<usize>,
}

impl DispatcherTask {
    /// Creates the dispatcher, its task and the handle the API uses.
    pub fn new(
        store: Store,
        routes: std::collections::HashMap<String, CarrierRoute>,
        limits: &std::collections::HashMap<String, NumberLimits>,
        events: Arc<dyn StatusEvents>,
        transport: mpsc::Receiver<LinkEvent>,
    ) -> (DispatcherTask, DispatcherHandle) {
        let machine = Dispatcher::new(store.clone(), routes, limits, events, Now::current());
        let (tx, commands) = mpsc::channel(1024);
        let (leases_tx, leases) = mpsc::unbounded_channel();
        let (syncs_tx, syncs) = mpsc::unbounded_channel();
        let (counted_tx, counted) = mpsc::unbounded_channel();
        let handle = machine.handle(tx);
        (
            DispatcherTask {
                machine,
                store,
                commands,
                transport,
                leases_tx,
                leases,
                syncs_tx,
                syncs,
                counted_tx,
                counted,
            },
            handle,
        )
    }

    /// Sends MMS the MMSC refuses for good as SMS with links
    /// ([`super::MmsFallback`]).
    pub fn set_mms_fallback(&mut self, fallback: Option<super::MmsFallback>) {
        self.machine.set_mms_fallback(fallback);
    }

    /// Each business number's SMS carrier (see [`Dispatcher::set_sms_routes`]).
    pub fn set_sms_routes(&mut self, routes: std::collections::HashMap<String, String>) {
        self.machine.set_sms_routes(routes);
    }

    /// See [`Dispatcher::replay`].
    pub fn replay(&mut self) -> Result<(), StoreError> {
        self.machine.set_now(Now::current());
        self.machine.replay()
    }

    /// Runs until the API and every transport are gone.
    pub async fn run(mut self) -> Result<(), StoreError> {
        let mut commands_open = true;
        loop {
            self.machine.set_now(Now::current());
            self.machine.step();
            self.carry_out_effects();
            let deadline = self.machine.poll_timeout();
            let timer = async move {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = self.commands.recv(), if commands_open => match command {
                    Some(command) => {
                        self.machine.set_now(Now::current());
                        self.machine.handle_command(command);
                    }
                    None => commands_open = false,
                },
                Some(outcome) = self.leases.recv() => self.machine.on_lease(outcome),
                Some(upto) = self.syncs.recv() => self.machine.synced(upto),
                Some(to_send) = self.counted.recv() => self.machine.backlog_counted(to_send),
                event = self.transport.recv() => match event {
                    Some(event) => {
                        self.machine.set_now(Now::current());
                        self.machine.handle_link_event(event);
                        // Drain the burst before stepping again.
                        while let Ok(event) = self.transport.try_recv() {
                            self.machine.handle_link_event(event);
                        }
                    }
                    None => {
                        self.machine.stop();
                        return Ok(());
                    }
                },
                () = timer => {
                    self.machine.set_now(Now::current());
                    self.machine.on_timeout();
                }
            }
        }
    }

    fn carry_out_effects(&mut self) {
        for effect in self.machine.take_effects() {
            let durability = self.store.group_commit().clone();
            match effect {
                Effect::Sync { upto } => {
                    let done = self.syncs_tx.clone();
                    tokio::spawn(async move {
                        if durability.sync().await.is_ok() {
                            let _ = done.send(upto);
                        }
                    });
                }
                Effect::AckAfterSync(acks) => {
                    tokio::spawn(async move {
                        match durability.sync().await {
                            Ok(()) => {
                                for ack in acks {
                                    let _ = ack.send(());
                                }
                            }
                            Err(e) => warn!(
                                error = %e,
                                "sync failed; receipts left unacknowledged for the carrier to resend"
                            ),
                        }
                    });
                }
                Effect::CountBacklog { below } => {
                    let (store, done) = (self.store.clone(), self.counted_tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let counted = store.count_to_send(&below).unwrap_or_else(|e| {
                            warn!(error = %e, "could not count the backlog; the outbox depth reads low");
                            0
                        });
                        let _ = done.send(counted);
                    });
                }
                Effect::LeaseSync(mut outcome) => {
                    let done = self.leases_tx.clone();
                    if !outcome.durable {
                        let _ = done.send(outcome);
                        continue;
                    }
                    tokio::spawn(async move {
                        outcome.durable = durability.sync().await.is_ok();
                        let _ = done.send(outcome);
                    });
                }
            }
        }
    }
}
