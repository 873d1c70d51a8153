//! What the checker reports: the COM [`Rule`]s it knows and each
//! [`Violation`] of one.

use core::fmt;

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which rule.
    pub rule: Rule,
    /// What the object did, with the IIDs and values involved.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.detail)
    }
}

/// The rules the checker knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// AddRef returns the new count and Release the remaining one: two
    /// AddRefs then two Releases return n+1, n+2, n+1, n, with n ≥ 1 for the
    /// caller's own reference.
    RefCountReturns,
    /// A successful QueryInterface adds exactly one reference.
    QueryInterfaceAddsOne,
    /// The object answers every interface it was expected to answer.
    Answers,
    /// Reflexive: an interface pointer answers its own IID.
    Reflexive,
    /// Symmetric: an interface obtained from interface A answers A.
    Symmetric,
    /// Transitive: every interface answers every other interface of the object.
    Transitive,
    /// IUnknown identity: every interface gives the same IUnknown pointer, every time.
    Identity,
    /// An IID the object does not implement gives E_NOINTERFACE, from every interface.
    NoInterface,
    /// A failed QueryInterface sets `*ppv` to NULL.
    NullOnFailure,
    /// A NULL `ppv` gives E_POINTER (and takes no reference). Checked only
    /// for objects that promise it ([`Conformance::promises_e_pointer`](super::Conformance::promises_e_pointer)).
    NullOutPointer,
    /// After every reference the check took is released, the count is what it was.
    Balance,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RefCountReturns => "AddRef/Release return values",
            Self::QueryInterfaceAddsOne => "QueryInterface adds one reference",
            Self::Answers => "expected interface answered",
            Self::Reflexive => "QueryInterface is reflexive",
            Self::Symmetric => "QueryInterface is symmetric",
            Self::Transitive => "QueryInterface is transitive",
            Self::Identity => "stable IUnknown identity",
            Self::NoInterface => "unknown IID gives E_NOINTERFACE",
            Self::NullOnFailure => "failed QueryInterface sets *ppv to NULL",
            Self::NullOutPointer => "NULL ppv gives E_POINTER",
            Self::Balance => "reference count balanced",
        })
    }
}
