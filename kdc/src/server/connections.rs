//! The table of open TCP connections (RFC 4120 §7.2.2): the total and per-address limits, and
//! which connection gives way when the table is full. A full table closes the connection
//! that has waited longest for a request rather than refusing the new one, so connections
//! that hold a slot without using it cannot lock real clients out; one address can hold at
//! most `max_tcp_connections_per_ip` slots, so one client cannot hold them all.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Notify;

/// Why a new connection was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Its address already holds `max_per_ip` connections.
    PerAddress,
    /// The table is full and every connection in it is busy with a request.
    Full,
}

pub(super) struct Connections {
    max_total: usize,
    max_per_ip: usize,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, Entry>,
    per_ip: HashMap<IpAddr, usize>,
}

struct Entry {
    ip: IpAddr,
    /// Since when it has been waiting for a request; `None` while one is being answered.
    idle_since: Option<Instant>,
    evict: Arc<Notify>,
}

/// An admitted connection's place in the table; gives it back when dropped.
pub(super) struct Slot {
    id: u64,
    connections: Arc<Connections>,
    evict: Arc<Notify>,
}

impl Connections {
    pub(super) fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_ip,
            table: Mutex::new(Table::default()),
        })
    }

    /// Admits a connection from `ip`, idle from now; says whether an idle connection was
    /// closed to make room.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<(Slot, bool), Refusal> {
        let mut table = self.lock();
        if table.per_ip.get(&ip).copied().unwrap_or(0) >= self.max_per_ip {
            return Err(Refusal::PerAddress);
        }
        let mut evicted = false;
        if table.open.len() >= self.max_total {
            let oldest_idle = table
                .open
                .iter()
                .filter_map(|(id, entry)| entry.idle_since.map(|since| (since, *id)))
                .min()
                .map(|(_, id)| id);
            let Some(victim) = oldest_idle else {
                return Err(Refusal::Full);
            };
            if let Some(entry) = table.remove(victim) {
                // notify_one keeps a permit if the connection is not waiting right now.
                entry.evict.notify_one();
            }
            evicted = true;
        }
        let id = table.next_id;
        table.next_id = table.next_id.wrapping_add(1);
        let evict = Arc::new(Notify::new());
        table.open.insert(
            id,
            Entry {
                ip,
                idle_since: Some(Instant::now()),
                evict: Arc::clone(&evict),
            },
        );
        *table.per_ip.entry(ip).or_insert(0) += 1;
        let slot = Slot {
            id,
            connections: Arc::clone(self),
            evict,
        };
        Ok((slot, evicted))
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // The table holds no invariant a panicking holder could break half-way that
        // matters more than serving: take it back.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Table {
    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.open.remove(&id)?;
        if let Some(count) = self.per_ip.get_mut(&entry.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_ip.remove(&entry.ip);
            }
        }
        Some(entry)
    }
}

impl Slot {
    /// Marks the connection as waiting for a request (evictable) or answering one.
    pub(super) fn set_idle(&self, idle: bool) {
        let mut table = self.connections.lock();
        if let Some(entry) = table.open.get_mut(&self.id) {
            entry.idle_since = idle.then(Instant::now);
        }
    }

    /// Completes when a newer connection took this one's place.
    pub(super) async fn evicted(&self) {
        self.evict.notified().await;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connections.lock().remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

    #[test]
    fn one_address_holds_at_most_its_share() {
        let connections = Connections::new(10, 2);
        let _a1 = connections.admit(A).unwrap();
        let a2 = connections.admit(A).unwrap();
        assert_eq!(connections.admit(A).err(), Some(Refusal::PerAddress));
        let (_b, evicted) = connections.admit(B).unwrap();
        assert!(!evicted);
        drop(a2);
        assert!(connections.admit(A).is_ok());
    }

    #[tokio::test]
    async fn a_full_table_closes_the_connection_idle_longest() {
        let connections = Connections::new(2, 2);
        let (oldest, _) = connections.admit(A).unwrap();
        let (busy, _) = connections.admit(B).unwrap();
        busy.set_idle(false);
        let (newest, evicted) = connections.admit(B).unwrap();
        assert!(evicted);
        // The evicted connection learns it even though it was not waiting yet.
        tokio::time::timeout(std::time::Duration::from_secs(5), oldest.evicted())
            .await
            .expect("the oldest idle connection is told to close");
        // Its place is free already: dropping it later does not free a second one.
        drop(oldest);
        newest.set_idle(false);
        assert_eq!(connections.admit(A).err(), Some(Refusal::Full));
    }

    #[test]
    fn a_table_of_busy_connections_refuses() {
        let connections = Connections::new(1, 1);
        let (busy, _) = connections.admit(A).unwrap();
        busy.set_idle(false);
        assert_eq!(connections.admit(B).err(), Some(Refusal::Full));
        busy.set_idle(true);
        assert!(matches!(connections.admit(B), Ok((_, true))));
    }
}
