//! Compile errors, and the collector of every problem the macro finds, so
//! one build shows all of them.

use std::fmt::Display;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// Compile errors, each a message and the user's tokens it underlines.
#[derive(Debug)]
pub struct Error {
    /// Each message, with the spans of the first and last token it underlines.
    messages: Vec<(Span, Span, String)>,
}

/// `Ok`, or the errors found.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error underlining `span`.
    pub fn new(span: Span, message: impl Display) -> Self {
        Error { messages: vec![(span, span, message.to_string())] }
    }

    /// An error underlining `tokens`, from the first to the last (at the
    /// macro's call site when there are none).
    pub fn spanned(tokens: impl IntoIterator<Item = TokenTree>, message: impl Display) -> Self {
        let mut tokens = tokens.into_iter();
        let start = tokens.next().map_or_else(Span::call_site, |token| token.span());
        let end = tokens.last().map_or(start, |token| token.span());
        Error { messages: vec![(start, end, message.to_string())] }
    }

    /// Adds `other`'s messages after these.
    pub fn combine(&mut self, other: Error) {
        self.messages.extend(other.messages);
    }

    /// The messages, in order (for tests).
    #[cfg(test)]
    pub fn messages(&self) -> Vec<String> {
        self.messages.iter().map(|(_, _, message)| message.clone()).collect()
    }

    /// One `::core::compile_error! { "message" }` per message. Its path
    /// carries the first token's span and its braces the last one's, so
    /// rustc underlines everything in between.
    pub fn to_compile_error(&self) -> TokenStream {
        let mut output = TokenStream::new();
        for (start, end, message) in &self.messages {
            let punct = |ch, spacing| {
                let mut punct = Punct::new(ch, spacing);
                punct.set_span(*start);
                TokenTree::Punct(punct)
            };
            let mut literal = Literal::string(message);
            literal.set_span(*end);
            let mut group = Group::new(Delimiter::Brace, TokenStream::from(TokenTree::Literal(literal)));
            group.set_span(*end);
            output.extend([
                punct(':', Spacing::Joint),
                punct(':', Spacing::Alone),
                TokenTree::Ident(Ident::new("core", *start)),
                punct(':', Spacing::Joint),
                punct(':', Spacing::Alone),
                TokenTree::Ident(Ident::new("compile_error", *start)),
                punct('!', Spacing::Alone),
                TokenTree::Group(group),
            ]);
        }
        output
    }
}

/// The errors found so far, combined into one `Error`.
///
/// It cannot be dropped unseen: `finish` hands the errors on, and dropping
/// a collector that was never finished panics in debug builds (a bug in the
/// macro, never the user's input), as serde_derive's `Ctxt` does.
#[must_use = "the errors must reach the user: call `finish`"]
pub struct Errors {
    found: Option<Error>,
    count: usize,
    finished: bool,
}

impl Errors {
    /// A collector with nothing found yet.
    pub fn new() -> Self {
        Errors { found: None, count: 0, finished: false }
    }

    /// Adds `error` after the ones already found.
    pub fn push(&mut self, error: Error) {
        self.count += 1;
        match &mut self.found {
            Some(all) => all.combine(error),
            None => self.found = Some(error),
        }
    }

    /// Adds an error spanning the user's `tokens`.
    pub fn spanned(&mut self, tokens: impl IntoIterator<Item = TokenTree>, message: impl Display) {
        self.push(Error::spanned(tokens, message));
    }

    /// Adds the error of `result`, if any, and passes on its value.
    pub fn check<T>(&mut self, result: Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// How many errors were added so far (a check compares it before and after).
    pub fn count(&self) -> usize {
        self.count
    }

    /// `Ok` when nothing was found, else every error combined.
    pub fn finish(mut self) -> Result<()> {
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
pub fn both(first: &TokenStream, last: &TokenStream) -> TokenStream {
    let mut both = first.clone();
    both.extend(last.clone());
    both
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    #[test]
    fn finish_hands_on_every_error_in_order() {
        let mut errors = Errors::new();
        assert_eq!(errors.count(), 0);
        errors.spanned(quote!(a), "first");
        errors.check::<()>(Err(Error::spanned(quote!(b), "second")));
        assert_eq!(errors.check(Ok(7)), Some(7));
        assert_eq!(errors.count(), 2);
        let messages = errors.finish().unwrap_err().messages();
        assert_eq!(messages, ["first", "second"]);
        assert!(Errors::new().finish().is_ok());
    }

    #[test]
    fn the_compile_error_is_the_one_syn_writes() {
        let tokens = quote!(impl MapiSync for Store);
        let ours = Error::spanned(tokens.clone(), "message").to_compile_error().to_string();
        let syn = syn::Error::new_spanned(tokens, "message").to_compile_error().to_string();
        assert_eq!(ours, syn);
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
