//! The typed model the pipeline passes between its steps.

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
    fn default() -> Self {
        Args { krate: syn::parse_quote!(::mapisync) }
    }
}

/// A provider impl that passed validation: everything generation needs.
///
/// Only `validate::provider` builds one, so generation never sees invalid input.
pub struct Provider {
    /// Path of the runtime crate.
    pub krate: Path,
    /// The user's type, with the user's spans.
    pub self_ty: Type,
}
