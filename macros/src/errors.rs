//! Compile errors: the collector of every problem the macro finds, so one
//! build shows all of them, and their `compile_error!` form.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;

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
        for _ in &error {
            self.count += 1;
        }
        match &mut self.found {
            Some(all) => all.combine(error),
            None => self.found = Some(error),
        }
    }

    /// Adds an error spanning the user's `tokens`. Not generic, as
    /// nothing on this cold path is: one copy of it (and of syn's
    /// `new_spanned`) serves every check, which keeps the macro crate's own
    /// build short.
    pub fn spanned(&mut self, tokens: &dyn Tokens, message: &str) {
        self.push(spanned(tokens, message));
    }

    /// Adds the error of `result`, if any, and passes on its value.
    pub fn check<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(error);
                None
            }
        }
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
        // The crate's own tests only: in a user's build (debug or not) the
        // macro never panics, whatever its input.
        if cfg!(test) && !self.finished && !std::thread::panicking() {
            panic!("mapisync-macros bug: an `Errors` collector was dropped without `finish`");
        }
    }
}

/// What an error points at: any syn node or token, as a `dyn`. Not
/// `dyn ToTokens`, whose table would compile `to_token_stream` once more for
/// every type a check reports on: this has the one method.
pub trait Tokens {
    /// Appends the tokens to `stream`.
    fn append_to(&self, stream: &mut TokenStream);
}

impl<T: ToTokens + ?Sized> Tokens for T {
    fn append_to(&self, stream: &mut TokenStream) {
        self.to_tokens(stream);
    }
}

/// An error spanning the user's `tokens` (syn's `new_spanned`, one copy).
pub fn spanned(tokens: &dyn Tokens, message: &str) -> syn::Error {
    let mut stream = TokenStream::new();
    tokens.append_to(&mut stream);
    syn::Error::new_spanned(stream, message)
}

/// `first` then `last`: an error spanning both underlines everything between.
pub fn both(first: &dyn Tokens, last: &dyn Tokens) -> TokenStream {
    let mut stream = TokenStream::new();
    first.append_to(&mut stream);
    last.append_to(&mut stream);
    stream
}

/// One `::std::compile_error! { "message" }` per message of `error`, reading
/// the same in every edition.
///
/// syn writes `::core::compile_error! { ... }` with the path at the user's
/// first token, so the path resolves in the user's edition, and in Rust 2015
/// `::core` names the crate root's `core`, which is not there: every error
/// would read "cannot find `core` in the crate root". `::std` is there in
/// every edition (2015 puts `extern crate std` at the crate root; later
/// editions have it in the extern prelude, and mapisync needs std anyway).
/// A bare `compile_error!` would read the same too, but a user's own macro
/// named `compile_error` would then take every error away, and the invalid
/// impl would compile. The spans stay syn's (the path at the first token,
/// the braces at the last), so rustc underlines the same tokens.
pub fn to_compile_error(error: &syn::Error) -> TokenStream {
    let mut trees = Vec::new();
    for token in error.to_compile_error() {
        trees.push(match token {
            TokenTree::Ident(ident) if ident == "core" => {
                TokenTree::Ident(proc_macro2::Ident::new("std", ident.span()))
            }
            token => token,
        });
    }
    trees.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn messages(error: syn::Error) -> Vec<String> {
        error.into_iter().map(|error| error.to_string()).collect()
    }

    #[test]
    fn finish_hands_on_every_error_in_order() {
        let mut errors = Errors::new();
        assert_eq!(errors.count(), 0);
        errors.spanned(&quote!(a), "first");
        errors.check::<()>(Err(syn::Error::new_spanned(quote!(b), "second")));
        assert_eq!(errors.check(Ok(7)), Some(7));
        assert_eq!(errors.count(), 2);
        assert_eq!(messages(errors.finish().unwrap_err()), ["first", "second"]);
        assert!(Errors::new().finish().is_ok());
    }

    #[test]
    fn the_compile_error_is_std_s_by_its_absolute_path() {
        let mut error = syn::Error::new_spanned(quote!(impl MapiSync for Store), "first");
        error.combine(syn::Error::new_spanned(quote!(Store), "second \"quoted\""));
        let ours = to_compile_error(&error).to_string();
        assert_eq!(ours, r#":: std :: compile_error ! { "first" } :: std :: compile_error ! { "second \"quoted\"" }"#);
        let syn = error.to_compile_error().to_string();
        assert_eq!(syn.replace(":: core :: ", ":: std :: "), ours, "only the crate differs from syn's");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "dropped without `finish`")]
    fn an_unfinished_collector_panics_in_debug() {
        let mut errors = Errors::new();
        errors.spanned(&quote!(a), "lost");
        drop(errors);
    }
}
