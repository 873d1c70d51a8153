//! `SyncFlags`: the `ulFlags` bits of `MAPISIB` as a typed set that keeps
//! unknown bits. Named the way the `bitflags` crate names its constructors.

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};

/// The `ulFlags` of a `MAPISIB`.
///
/// | constant | `ulFlags` bit | the host asks to |
/// |---|---|---|
/// | [`UPLOAD_HIERARCHY`](Self::UPLOAD_HIERARCHY) | `0x0000_0001` | send folder-hierarchy changes |
/// | [`DOWNLOAD_HIERARCHY`](Self::DOWNLOAD_HIERARCHY) | `0x0000_0002` | fetch folder-hierarchy changes |
/// | [`UPLOAD_CONTENTS`](Self::UPLOAD_CONTENTS) | `0x0000_0040` | send message changes |
/// | [`DOWNLOAD_CONTENTS`](Self::DOWNLOAD_CONTENTS) | `0x0000_0080` | fetch message changes |
/// | [`OUTGOING_MAIL`](Self::OUTGOING_MAIL) | `0x0000_0200` | send outgoing mail (documented as not in use) |
/// | [`GLOBAL_HEADERS`](Self::GLOBAL_HEADERS) | `0x0200_0000` | download headers only |
/// | [`ON_DEMAND`](Self::ON_DEMAND) | `0x2000_0000` | run this sync first: the user asked for it |
///
/// The bits combine. The contract lists these seven; a newer host may send more. The runtime
/// keeps unknown bits, never rejects them ([`SyncFlags::from_bits_retain`]),
/// and [`SyncFlags::unknown`] shows them. The constructors follow the
/// `bitflags` crate's names: `from_bits_retain` keeps every bit,
/// `from_bits` is `None` when an unknown bit is set, `from_bits_truncate`
/// drops unknown bits.
///
/// ```
/// use mapisync::SyncFlags;
/// let flags = SyncFlags::from_bits_retain(0x0000_0080 | 0x2000_0000 | 0x0400_0000);
/// assert!(flags.contains(SyncFlags::DOWNLOAD_CONTENTS | SyncFlags::ON_DEMAND));
/// assert_eq!(flags.unknown(), SyncFlags::from_bits_retain(0x0400_0000));
/// assert_eq!(SyncFlags::from_bits(flags.bits()), None);
/// assert_eq!(SyncFlags::from_bits_truncate(flags.bits()), SyncFlags::DOWNLOAD_CONTENTS | SyncFlags::ON_DEMAND);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct SyncFlags(u32);

impl SyncFlags {
    /// `SYNC_UPLOAD_HIERARCHY` (`0x0000_0001`): send folder-hierarchy changes to the server.
    pub const UPLOAD_HIERARCHY: Self = Self(0x0000_0001);
    /// `SYNC_DOWNLOAD_HIERARCHY` (`0x0000_0002`): fetch folder-hierarchy changes from the server.
    pub const DOWNLOAD_HIERARCHY: Self = Self(0x0000_0002);
    /// `SYNC_UPLOAD_CONTENTS` (`0x0000_0040`): send message changes to the server.
    pub const UPLOAD_CONTENTS: Self = Self(0x0000_0040);
    /// `SYNC_DOWNLOAD_CONTENTS` (`0x0000_0080`): fetch message changes from the server.
    pub const DOWNLOAD_CONTENTS: Self = Self(0x0000_0080);
    /// `SYNC_OUTGOING_MAIL` (`0x0000_0200`): send outgoing mail (documented as not in use).
    pub const OUTGOING_MAIL: Self = Self(0x0000_0200);
    /// `SYNC_GLOBAL_HEADERS` (`0x0200_0000`; also `SYNC_HEADERS`): headers only, no full bodies.
    pub const GLOBAL_HEADERS: Self = Self(0x0200_0000);
    /// `SYNC_ON_DEMAND` (`0x2000_0000`): the user asked for this sync; give it priority.
    pub const ON_DEMAND: Self = Self(0x2000_0000);

    /// Every bit the contract names (`0x2200_02C3`).
    pub const KNOWN: Self = Self(0x2200_02C3);

    const NAMES: [(Self, &'static str); 7] = [
        (Self::UPLOAD_HIERARCHY, "UPLOAD_HIERARCHY"),
        (Self::DOWNLOAD_HIERARCHY, "DOWNLOAD_HIERARCHY"),
        (Self::UPLOAD_CONTENTS, "UPLOAD_CONTENTS"),
        (Self::DOWNLOAD_CONTENTS, "DOWNLOAD_CONTENTS"),
        (Self::OUTGOING_MAIL, "OUTGOING_MAIL"),
        (Self::GLOBAL_HEADERS, "GLOBAL_HEADERS"),
        (Self::ON_DEMAND, "ON_DEMAND"),
    ];

    /// No bits.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Every bit as given, known or not (what the runtime does with `ulFlags`).
    pub const fn from_bits_retain(bits: u32) -> Self {
        Self(bits)
    }

    /// The bits, or `None` if any bit is one the contract does not name.
    pub const fn from_bits(bits: u32) -> Option<Self> {
        if bits & !Self::KNOWN.0 == 0 { Some(Self(bits)) } else { None }
    }

    /// The bits the contract names; unknown bits are dropped.
    pub const fn from_bits_truncate(bits: u32) -> Self {
        Self(bits & Self::KNOWN.0)
    }

    /// The raw `ulFlags` value, unknown bits included.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set.
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bits the contract does not name.
    pub const fn unknown(self) -> Self {
        Self(self.0 & !Self::KNOWN.0)
    }
}

impl BitOr for SyncFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for SyncFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for SyncFlags {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

/// Prints the named bits joined by `|`, then any unknown bits in hex:
/// `DOWNLOAD_CONTENTS | ON_DEMAND | 0x4000000`.
impl fmt::Debug for SyncFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut part = |f: &mut fmt::Formatter<'_>, args: fmt::Arguments<'_>| {
            let sep = if first { "" } else { " | " };
            first = false;
            write!(f, "{sep}{args}")
        };
        for (flag, name) in Self::NAMES {
            if self.contains(flag) {
                part(f, format_args!("{name}"))?;
            }
        }
        let unknown = self.unknown().0;
        if unknown != 0 {
            part(f, format_args!("{unknown:#x}"))?;
        }
        if first {
            f.write_str("(empty)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_is_the_union_of_the_named_bits() {
        let union = SyncFlags::NAMES.iter().fold(SyncFlags::empty(), |acc, (f, _)| acc | *f);
        assert_eq!(union, SyncFlags::KNOWN);
    }

    #[test]
    fn unknown_bits_are_kept() {
        let flags = SyncFlags::from_bits_retain(0xFFFF_FFFF);
        assert_eq!(flags.bits(), 0xFFFF_FFFF);
        assert_eq!(flags.unknown().bits(), !SyncFlags::KNOWN.bits());
    }

    #[test]
    fn constructors_follow_bitflags_names() {
        let known = SyncFlags::UPLOAD_CONTENTS | SyncFlags::ON_DEMAND;
        assert_eq!(SyncFlags::from_bits(known.bits()), Some(known));
        assert_eq!(SyncFlags::from_bits(known.bits() | 0x4), None, "an unknown bit");
        assert_eq!(SyncFlags::from_bits_truncate(known.bits() | 0x4), known);
        assert_eq!(SyncFlags::from_bits_retain(known.bits() | 0x4).bits(), known.bits() | 0x4);
        assert_eq!(SyncFlags::from_bits(0), Some(SyncFlags::empty()));
    }

    /// Each named bit's documentation gives its value, in the table on the
    /// type and on the constant, as `0x0000_0001` (what a C host writes).
    #[test]
    fn the_docs_give_each_value() {
        let source = include_str!("flags.rs");
        for (flag, name) in SyncFlags::NAMES {
            let bits = flag.bits();
            let value = format!("`0x{:04X}_{:04X}`", bits >> 16, bits & 0xFFFF);
            let declaration = format!("pub const {name}: Self");
            let doc = source.lines().take_while(|line| !line.contains(&declaration)).last().unwrap_or("");
            assert!(doc.contains(&value), "the doc of {name} does not give {value}: {doc}");
            let row = format!("[`{name}`](Self::{name}) | {value} |");
            assert!(source.contains(&row), "the table on SyncFlags has no row {row}");
        }
    }

    #[test]
    fn debug_names_bits_and_shows_unknown_ones() {
        let flags = SyncFlags::DOWNLOAD_CONTENTS | SyncFlags::ON_DEMAND | SyncFlags::from_bits_retain(0x400_0000);
        assert_eq!(format!("{flags:?}"), "DOWNLOAD_CONTENTS | ON_DEMAND | 0x4000000");
        assert_eq!(format!("{:?}", SyncFlags::empty()), "(empty)");
    }
}
