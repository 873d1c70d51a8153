//! The registry's side of [`SyncHandle`](https://docs.rs/mapisync/latest/mapisync/lifecycle/struct.SyncHandle.html):
//! one record per object that handles stand for, which scope owns it, and
//! the numbers (life, adoption) that tell a current handle from a stale one.

use super::{Exit, Inner, Registry, ScopeId};

/// One object that [`SyncHandle`](https://docs.rs/mapisync/latest/mapisync/lifecycle/struct.SyncHandle.html)s stand
/// for, from its first handle until its last handle of this life is gone or
/// the object is destroyed ([`forget`](Registry::forget)).
///
/// `life` tells this object apart from a later one at the same address (a
/// new record, a new number); `member` is the scope that owns it now.
/// Adopting moves the object: the new membership gets a new `generation`,
/// and the handles of the earlier adoption are stale for membership from
/// then on (their clones and drops change nothing; they still cancel).
pub(super) struct Record {
    key: usize,
    life: u64,
    /// Handles of this life (clones included), scoped or not.
    handles: usize,
    member: Option<Member>,
}

/// The scope that owns an object, by the adoption that made it so.
pub(super) struct Member {
    scope: ScopeId,
    generation: u64,
    /// Handles of this adoption (the adopted one and its clones).
    handles: usize,
}

/// What a [`SyncHandle`](https://docs.rs/mapisync/latest/mapisync/lifecycle/struct.SyncHandle.html) holds: no COM
/// reference, only the numbers the registry compares. A handle whose
/// `life` is not its object's current one (the object was destroyed, or its
/// last handle went) does nothing at all; one whose `adoption` is not the
/// object's current membership changes no membership.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ticket {
    key: usize,
    life: u64,
    /// The scope and generation of the adoption that made the handle.
    adoption: Option<(ScopeId, u64)>,
}

impl Ticket {
    /// The scope the handle was adopted into, if any.
    pub fn scope(&self) -> Option<ScopeId> {
        self.adoption.map(|(scope, _)| scope)
    }

    fn is_life(&self, record: &Record) -> bool {
        record.key == self.key && record.life == self.life
    }

    fn is_adoption(&self, member: &Member) -> bool {
        self.adoption == Some((member.scope, member.generation))
    }
}

impl<W: Exit> Registry<W> {
    /// A new handle for the object at `key`: adopted into `scope` (which
    /// then owns the object, moved from any scope that owned it before), or
    /// in no scope.
    pub fn handle(&self, key: usize, scope: Option<ScopeId>) -> Ticket {
        let mut inner = self.lock();
        let generation = inner.number();
        let index = match inner.records.iter().position(|record| record.key == key) {
            Some(index) => index,
            None => {
                let life = inner.number();
                inner.records.push(Record { key, life, handles: 0, member: None });
                inner.records.len() - 1
            }
        };
        let record = &mut inner.records[index];
        record.handles += 1;
        if let Some(scope) = scope {
            record.member = Some(Member { scope, generation, handles: 1 });
        }
        let ticket = Ticket { key, life: record.life, adoption: scope.map(|scope| (scope, generation)) };
        self.count_records(&inner);
        ticket
    }

    /// A clone of the handle `ticket`: counted while `ticket` is current
    /// (its life, and for membership its adoption); a stale ticket's clone
    /// changes nothing.
    pub fn clone_handle(&self, ticket: &Ticket) {
        let mut inner = self.lock();
        if let Some(record) = inner.record_mut(ticket) {
            record.handles += 1;
            if let Some(member) = record.member.as_mut().filter(|member| ticket.is_adoption(member)) {
                member.handles += 1;
            }
        }
    }

    /// The handle `ticket` is gone: the object leaves its scope with the
    /// last handle of the current adoption, and the registry forgets it
    /// with its last handle. A stale ticket's drop changes nothing.
    pub fn drop_handle(&self, ticket: &Ticket) {
        let mut inner = self.lock();
        let Some(index) = inner.records.iter().position(|record| ticket.is_life(record)) else { return };
        let record = &mut inner.records[index];
        record.handles -= 1;
        if let Some(member) = record.member.as_mut().filter(|member| ticket.is_adoption(member)) {
            member.handles -= 1;
            if member.handles == 0 {
                record.member = None;
            }
        }
        if record.handles == 0 {
            inner.records.swap_remove(index);
            self.count_records(&inner);
        }
    }

    /// Cancels the running sync of the handle's object, if `ticket` is of
    /// its current life; whether one ran.
    pub fn cancel_handle(&self, ticket: &Ticket) -> bool {
        let live = self.lock().records.iter().any(|record| ticket.is_life(record));
        live && self.cancel(ticket.key)
    }

    /// The object at `key` is being destroyed (its final Release): every
    /// handle made for it is stale from now on, so an object made later at
    /// the same address starts a new life.
    // Under the loom models only the module's registry forgets, and it is
    // not theirs (`workers::forget`).
    #[cfg_attr(all(loom, test), allow(dead_code))]
    pub fn forget(&self, key: usize) {
        // Relaxed is enough: a record for this object was made while its
        // maker held a reference, so its count's store happens before the
        // final Release's Acquire fence that precedes this call; a 0 read
        // here was stored when no record existed, and none can be made for
        // an object without a reference.
        if self.recorded.load(core::sync::atomic::Ordering::Relaxed) == 0 {
            return;
        }
        let mut inner = self.lock();
        inner.records.retain(|record| record.key != key);
        self.count_records(&inner);
    }

    pub(super) fn count_records(&self, inner: &Inner<W>) {
        self.recorded.store(inner.records.len(), core::sync::atomic::Ordering::Relaxed);
    }
}

impl<W: Exit> Inner<W> {
    /// The scope that owns the object at `key`, or the store at `alias`
    /// that forwards to it.
    pub(super) fn owner_of(&self, key: usize, alias: Option<usize>) -> Option<ScopeId> {
        let owns = |record: &&Record| record.key == key || Some(record.key) == alias;
        self.records.iter().filter(owns).find_map(|record| record.member.as_ref()).map(|member| member.scope)
    }

    /// The next life or generation number.
    pub(super) fn number(&mut self) -> u64 {
        let number = self.next_number;
        self.next_number += 1;
        number
    }

    /// The record `ticket` is of, if its life is current.
    pub(super) fn record_mut(&mut self, ticket: &Ticket) -> Option<&mut Record> {
        self.records.iter_mut().find(|record| ticket.is_life(record))
    }
}
