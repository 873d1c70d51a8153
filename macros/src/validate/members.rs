//! The items of an impl of `MapiSync`: exactly one well-formed
//! `synchronize_in_background`, and nothing else.

use syn::ImplItem;
use syn::ext::IdentExt;

use super::{method, type_text};
use crate::errors::{Errors, both};
use crate::model::{METHOD, Place};
use crate::parse::{Impl, Member, MemberKind, Method};

/// The signature every error about a missing method points to.
const SIGNATURE: &str = "fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()>";

/// What the walk over the items has seen so far.
#[derive(Default)]
struct Seen {
    /// A definition of the method, valid or not, with or without `#[cfg]`.
    method: bool,
    /// A definition no `#[cfg]` can remove.
    unconditional: bool,
    /// A misspelling or a macro that may be meant as the method.
    maybe_method: bool,
    /// A malformed definition already moved to the fallback's inherent impl.
    moved_method: bool,
}

/// Checks every item and decides where the fallback puts each one.
pub fn check(item: &Impl, errors: &mut Errors) -> Vec<Place> {
    let mut seen = Seen::default();
    let mut places = Vec::with_capacity(item.items.len());
    for member in &item.items {
        places.push(self::member(item, member, &mut seen, errors));
    }
    method_present(item, &seen, errors);
    places
}

/// Whether the impl holds a `fn synchronize_in_background`, raw or not.
pub fn defines_method(item: &Impl) -> bool {
    for member in &item.items {
        if matches!(&member.kind, MemberKind::Fn(method) if is_method(method)) {
            return true;
        }
    }
    false
}

/// One item: the method, or an item the impl cannot hold.
fn member(item: &Impl, member: &Member, seen: &mut Seen, errors: &mut Errors) -> Place {
    let other = match &member.kind {
        MemberKind::Fn(method) if is_method(method) => return self::method(method, seen, errors),
        MemberKind::Fn(method) => {
            no_other_method(item, method, seen, errors);
            return Place::Inherent;
        }
        MemberKind::Other(other) => other,
        MemberKind::Unreadable(error) => {
            // It may be the method: "missing" would only repeat this error.
            seen.maybe_method = true;
            errors.push(unreadable(error));
            return Place::Inherent;
        }
    };
    match other {
        ImplItem::Const(constant) => {
            let message = format!(
                "unexpected associated const `{}`: an impl of `MapiSync` holds only `fn {METHOD}`",
                constant.ident
            );
            errors.spanned(&both(&constant.const_token, &constant.ident), &message);
            Place::Inherent
        }
        ImplItem::Type(alias) => {
            let message =
                format!("unexpected associated type `{}`: an impl of `MapiSync` holds only `fn {METHOD}`", alias.ident);
            errors.spanned(&both(&alias.type_token, &alias.ident), &message);
            Place::Dropped
        }
        ImplItem::Macro(invocation) => {
            seen.maybe_method = true;
            let message =
                format!("unexpected macro invocation: an impl of `MapiSync` holds only `fn {METHOD}`, written out");
            errors.spanned(&both(&invocation.mac.path, &invocation.mac.bang_token), &message);
            Place::Inherent
        }
        other => {
            errors.spanned(other, &format!("unexpected item: an impl of `MapiSync` holds only `fn {METHOD}`"));
            Place::Inherent
        }
    }
}

/// An item syn cannot read is one error, at the place syn stopped; the
/// fallback moves it out of the trait impl, so rustc adds at most its own
/// words about the same tokens.
pub fn unreadable(error: &syn::Error) -> syn::Error {
    syn::Error::new(error.span(), format_args!("`#[mapisync::provider]` cannot read this item: {error}"))
}

/// The method is defined once, unless `#[cfg]` may tell its definitions
/// apart; each definition has the one signature (`method::check`).
fn method(method: &Method, seen: &mut Seen, errors: &mut Errors) -> Place {
    let conditional = is_conditional(method);
    let before = errors.count();
    if seen.unconditional && !conditional {
        errors.spanned(&method.sig.ident, "duplicate `fn synchronize_in_background`: a provider implements it once");
    } else {
        self::method::check(method, errors);
    }
    seen.method = true;
    seen.unconditional |= !conditional;
    if errors.count() == before {
        Place::Trait
    } else if !std::mem::replace(&mut seen.moved_method, true) {
        Place::Inherent
    } else {
        Place::Dropped
    }
}

/// Another method is a misspelling of `synchronize_in_background`, or a
/// helper that belongs in an inherent impl.
fn no_other_method(item: &Impl, method: &Method, seen: &mut Seen, errors: &mut Errors) {
    // Unraw: the name as written, also where `edition_2015` made it raw.
    let name = method.sig.ident.unraw().to_string();
    if looks_like_method(&name) {
        seen.maybe_method = true;
        errors.spanned(&method.sig.ident, &format!("`MapiSync` has no method `{name}`: did you mean `{METHOD}`?"));
    } else {
        errors.spanned(
            &method.sig.ident,
            &format!(
                "unexpected method `{name}`: an impl of `MapiSync` holds only `fn {METHOD}`; move helpers to an inherent `impl {}` block",
                type_text(&item.self_ty)
            ),
        );
    }
}

/// The impl defines the method, unless a misspelling or a macro may be it
/// (then "missing" would only repeat their error).
fn method_present(item: &Impl, seen: &Seen, errors: &mut Errors) {
    if !seen.method && !seen.maybe_method {
        let trait_path = item.trait_.as_ref().map(|(_, path, _)| path);
        errors.spanned(&trait_path, &format!("missing `{SIGNATURE}`"));
    }
}

/// Whether `method` is named `synchronize_in_background` (`r#` or not).
fn is_method(method: &Method) -> bool {
    method.sig.ident.unraw() == METHOD
}

/// Whether `#[cfg]` may remove the item (`#[cfg_attr]` may add a `#[cfg]`),
/// so two definitions may be alternatives rather than duplicates.
fn is_conditional(method: &Method) -> bool {
    for attr in &method.attrs {
        if attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr") {
            return true;
        }
    }
    false
}

/// Whether `name` is probably a misspelling of `synchronize_in_background`:
/// close to it once case and underscores are ignored.
fn looks_like_method(name: &str) -> bool {
    edit_distance(&normalized(name), &normalized(METHOD)) <= 8
}

/// `text` in lower case, without underscores.
fn normalized(text: &str) -> Vec<char> {
    let mut chars = Vec::new();
    for c in text.chars() {
        if c != '_' {
            for lower in c.to_lowercase() {
                chars.push(lower);
            }
        }
    }
    chars
}

/// Levenshtein distance.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut previous = Vec::with_capacity(b.len() + 1);
    for j in 0..b.len() + 1 {
        previous.push(j);
    }
    for (i, ca) in a.iter().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_are_told_from_helpers() {
        for name in [
            "synchronise_in_background",
            "SynchronizeInBackground",
            "synchronizeInBackground",
            "synchronize_background",
            "sync_in_background",
            "synchronize_in_backgroud",
        ] {
            assert!(looks_like_method(name), "{name}");
        }
        for name in ["helper", "new", "run", "download_headers", "synchronize", "upload_changes"] {
            assert!(!looks_like_method(name), "{name}");
        }
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        let chars = |text: &str| text.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&chars("kitten"), &chars("sitting")), 3);
        assert_eq!(edit_distance(&chars(""), &chars("abc")), 3);
        assert_eq!(edit_distance(&chars("same"), &chars("same")), 0);
    }
}
