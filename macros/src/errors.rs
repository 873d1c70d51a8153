//! Collects every problem the macro finds, so one build shows all of them.

use std::fmt::Display;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

/// The errors found so far, combined into one `syn::Error`.
///
/// It cannot be dropped unseen: `finish` hands the errors on, and dropping
/// a collector that was never finished panics in debug builds (a bug in the
/// macro, never the user's input), as serde_derive's `Ctxt` does.
#[must_use = "the errors must reach the user: call `finish`"]
pub struct Errors {
    found: Option<syn::Error>,
    count: usize,
    finished: bool,
}

impl Errors {
    /// A collector with nothing found yet.
    pub fn new() -> Self {
        Errors { found: None, count: 0, finished: false }
    }

    /// Adds `error` after the ones already found.
    pub fn push(&mut self, error: syn::Error) {
        self.count += 1;
        match &mut self.found {
            Some(all) => all.combine(error),
            None => self.found = Some(error),
        }
    }

    /// Adds an error spanning the user's `tokens`.
    pub fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Adds the error of `result`, if any, and passes on its value.
    pub fn check<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// How many errors were added so far (a check compares it before and after).
    pub fn count(&self) -> usize {
        self.count
    }

    /// `Ok` when nothing was found, else every error combined.
    pub fn finish(mut self) -> syn::Result<()> {
        self.finished = true;
        match self.found.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        if cfg!(debug_assertions) && !self.finished && !std::thread::panicking() {
            panic!("mapisync-macros bug: an `Errors` collector was dropped without `finish`");
        }
    }
}

/// `first` then `last`: an error spanning both underlines everything between.
pub fn both(first: impl ToTokens, last: impl ToTokens) -> TokenStream {
    quote!(#first #last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_hands_on_every_error_in_order() {
        let mut errors = Errors::new();
        assert_eq!(errors.count(), 0);
        errors.spanned(quote!(a), "first");
        errors.check::<()>(Err(syn::Error::new_spanned(quote!(b), "second")));
        assert_eq!(errors.check(Ok(7)), Some(7));
        assert_eq!(errors.count(), 2);
        let messages: Vec<_> = errors.finish().unwrap_err().into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["first", "second"]);
        assert!(Errors::new().finish().is_ok());
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "dropped without `finish`")]
    fn an_unfinished_collector_panics_in_debug() {
        let mut errors = Errors::new();
        errors.spanned(quote!(a), "lost");
        drop(errors);
    }
}
