//! The typed model the pipeline passes between its steps.

use proc_macro2::{Ident, Span};
use syn::{Path, Type};

/// The method every provider implements, by its Rust name.
pub const METHOD: &str = "synchronize_in_background";

/// The last path segment of the trait the attribute goes on.
pub const TRAIT: &str = "MapiSync";

/// The attribute's arguments: `#[mapisync::provider(crate = path)]`.
pub struct Args {
    /// Where the runtime crate is reached from the user's crate; `::mapisync` by default.
    pub krate: Path,
}

impl Default for Args {
    /// `::mapisync`, built directly rather than parsed (the parser would be
    /// one more copy of syn's generic entry point in the macro's build).
    fn default() -> Self {
        let mut krate = Path::from(Ident::new("mapisync", Span::call_site()));
        krate.leading_colon = Some(Default::default());
        Args { krate }
    }
}

/// What validation decided about the impl, once: generation and the
/// fallback read it and never look at the input's validity again.
///
/// Only `validate::provider` builds one.
pub struct Checked {
    /// Which trait the impl is of.
    pub trait_: Trait,
    /// The glue's input, when the impl header (all the glue reads) is valid.
    pub provider: Option<Provider>,
    /// Where the fallback puts each item of the impl, in the impl's order.
    pub members: Vec<Place>,
}

/// Which trait the impl is of.
#[derive(Clone, Copy)]
pub enum Trait {
    /// `MapiSync`, by its name or (the impl defines its method) a renamed import.
    MapiSync,
    /// `impl !MapiSync`: reported; the fallback makes it positive, without items.
    Negative,
    /// An inherent impl or another trait: not the macro's to rearrange.
    Other,
}

/// Where the fallback puts one item of an invalid impl.
#[derive(Clone, Copy)]
pub enum Place {
    /// A valid `synchronize_in_background`: stays in the trait impl.
    Trait,
    /// Anything else the user wrote: an inherent impl of the same type, so
    /// their code still compiles and rustc does not repeat the macro's errors.
    Inherent,
    /// Left out: a second malformed method (it would clash in the inherent
    /// impl) or an associated type (inherent ones are unstable).
    Dropped,
}

/// A provider impl whose header passed validation: everything generation needs.
pub struct Provider {
    /// Path of the runtime crate.
    pub krate: Path,
    /// The user's type, with the user's spans.
    pub self_ty: Type,
}
