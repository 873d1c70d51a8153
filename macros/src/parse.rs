//! Step 1: the attribute's arguments and the item it is on, read with syn.
//!
//! The impl is read with syn's parsers for every part the macro judges (the
//! header, attributes, visibilities, signatures, types, the other items),
//! into `Impl`. What is inside the braces at the top of the impl body (a
//! method's body, a const's block, a macro's braces) the macro never looks
//! into, and rustc has parsed it already: syn reads the body with each of
//! those emptied (`hollow`), so a body costs nothing whatever its size, and
//! each item keeps the user's own tokens for the output. `Impl` also keeps
//! what syn's `ItemImpl` cannot hold and rustc itself reports better: a
//! visibility (`pub impl`, E0449) and a method without a body.

use std::slice;

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt};
use syn::parse::discouraged::Speculative;
use syn::parse::{ParseStream, Parser};
use syn::{
    Attribute, Expr, ExprPath, Generics, ImplItem, Item, Meta, Path, Signature, Token, Type, TypePath, Visibility,
    token,
};

use crate::errors::{self, Errors, Tokens, both};
use crate::model::Args;

pub(crate) mod depth;
mod edition_2015;
mod extent;
mod hollow;

/// An impl block.
pub struct Impl {
    /// The outer attributes.
    pub attrs: Vec<Attribute>,
    /// `pub impl` is not Rust, but rustc parses it and reports it itself.
    pub vis: Visibility,
    /// `default impl`.
    pub defaultness: Option<Token![default]>,
    /// `unsafe impl`.
    pub unsafety: Option<Token![unsafe]>,
    /// The `impl` keyword.
    pub impl_token: Token![impl],
    /// `<...>` after `impl`, and the `where` clause.
    pub generics: Generics,
    /// The trait, `!` if negative, and `for`.
    pub trait_: Option<(Option<Token![!]>, Path, Token![for])>,
    /// The type the impl is for.
    pub self_ty: Type,
    /// The body's braces.
    pub brace_token: token::Brace,
    /// The body's inner attributes (`#![...]`).
    pub inner_attrs: Vec<Attribute>,
    /// The body's items, in order.
    pub items: Vec<Member>,
}

/// An item of an impl: the user's tokens, and what syn reads of it.
pub struct Member {
    /// The item as the user wrote it, attributes and body included.
    pub tokens: TokenStream,
    /// What it is.
    pub kind: MemberKind,
}

/// What an item of an impl is. Its braces are empty: only `tokens` holds
/// what the user wrote inside them.
#[expect(
    clippy::large_enum_variant,
    reason = "a box per variant costs the macro's build a copy of Box's drop each; an impl has a few members"
)]
pub enum MemberKind {
    /// A method or associated function, with a body or without (rustc
    /// reports a method without a body itself).
    Fn(Method),
    /// Any other item: a const, a type, a macro, or tokens syn keeps verbatim.
    Other(ImplItem),
    /// An item syn cannot read (rustc may have reported it already, or may
    /// read syntax syn does not know), and why. The rest of the impl is
    /// still read: validation reports this once and the fallback moves it
    /// to the inherent impl, where rustc judges it.
    Unreadable(syn::Error),
}

/// A method's attributes and signature.
pub struct Method {
    /// The outer attributes.
    pub attrs: Vec<Attribute>,
    /// `pub`, `pub(crate)`, ...
    pub vis: Visibility,
    /// `default fn`.
    pub defaultness: Option<Token![default]>,
    /// Everything from the qualifiers to the `where` clause.
    pub sig: Signature,
    /// `{}` (emptied: the user's body is in `Member::tokens`) or `;`.
    pub body: TokenTree,
}

/// The example every argument error gives.
const EXAMPLE: &str = "e.g. `crate = ::my_reexport::mapisync`";

/// Parses `crate = path` (the one argument); every other argument is an error.
pub fn args(tokens: TokenStream) -> syn::Result<Args> {
    depth::check(&tokens)?;
    let mut errors = Errors::new();
    let mut krate: Option<Path> = None;
    // `Meta, Meta, ...` with an optional trailing comma, each judged as it
    // is read (syn's `parse_terminated` would compile its list type again).
    let read = (|input: ParseStream| {
        while !input.is_empty() {
            argument(input.parse()?, &mut krate, &mut errors);
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    })
    .parse2(tokens);
    // What does not parse is the one error, as before any was judged.
    let judged = errors.finish();
    read?;
    judged?;
    Ok(match krate {
        Some(krate) => Args { krate },
        None => Args::default(),
    })
}

/// One argument: `crate = path`, given once.
fn argument(meta: Meta, krate: &mut Option<Path>, errors: &mut Errors) {
    if !meta.path().is_ident("crate") {
        let message = format!("unknown argument `{}`: the only argument is `crate = path`", path_text(meta.path()));
        errors.spanned(meta.path(), &message);
        return;
    }
    let Meta::NameValue(name_value) = meta else {
        errors.spanned(&meta, &format!("expected `crate = path`, {EXAMPLE}"));
        return;
    };
    match name_value.value {
        Expr::Path(ExprPath { attrs, qself: None, path }) if attrs.is_empty() && is_plain(&path) => {
            if krate.is_some() {
                errors.spanned(&name_value.path, "duplicate argument `crate`");
            } else {
                *krate = Some(path);
            }
        }
        value => errors.spanned(&value, &format!("expected a path to the mapisync crate, {EXAMPLE}")),
    }
}

/// A path of names alone: no generic arguments.
fn is_plain(path: &Path) -> bool {
    for segment in path.segments.pairs() {
        if !segment.value().arguments.is_none() {
            return false;
        }
    }
    true
}

/// Parses the item; anything but an impl block is an error at its head.
///
/// rustc hands an attribute only items it has parsed, in the crate's
/// edition. When syn (which reads Rust 2018 and later) cannot read all of
/// one, it may be Rust 2015 that uses a later keyword as a name (`fn
/// async()`), and it is read again with those names as raw identifiers
/// (`edition_2015`). An item of the body syn still cannot read is kept as
/// `MemberKind::Unreadable`: one error, not a failed impl.
/// What syn reads is measured first (`depth`: too deep, and syn would
/// overflow the stack): the header here, each item of an impl body alone,
/// so one too deep is one unreadable item.
pub fn item(tokens: TokenStream) -> syn::Result<Impl> {
    if let Some(inner) = invisible_group(&tokens) {
        return item(inner); // an item a `macro_rules!` macro passed on as `$item`
    }
    let (hollow, contents) = hollow::impl_body(&tokens);
    depth::check(&hollow::header(&hollow))?;
    let parse = |tokens| (|input: ParseStream| impl_or_item(input, &mut contents.iter())).parse2(tokens);
    let mut parsed = parse(hollow.clone());
    // Read as Rust 2015 (`dyn (` a keyword, then a name), more of it is
    // readable: it is Rust 2015.
    for reading in 0..2 {
        let paren_is_name = reading == 1;
        if matches!(&parsed, Ok(parsed) if parsed.unreadable() == 0) {
            break;
        }
        if let Ok(retry) = parse(edition_2015::raw_names(hollow.clone(), paren_is_name)) {
            if !matches!(&parsed, Ok(first) if retry.unreadable() >= first.unreadable()) {
                parsed = Ok(edition_2015::spelled_as_written(retry));
            }
        }
    }
    let parsed = parsed?;
    match parsed {
        Parsed::Impl(item) => Ok(*item),
        Parsed::Other(head) => Err(errors::spanned(
            &head,
            "`#[mapisync::provider]` goes on an `impl mapisync::MapiSync for YourType` block",
        )),
    }
}

/// What the attribute is on.
enum Parsed {
    Impl(Box<Impl>),
    /// Any other item, by its head (`head`).
    Other(TokenStream),
}

impl Parsed {
    /// How many items of the impl syn could not read.
    fn unreadable(&self) -> usize {
        match self {
            Parsed::Impl(item) => {
                let mut unreadable = 0;
                for member in &item.items {
                    unreadable += usize::from(matches!(member.kind, MemberKind::Unreadable(_)));
                }
                unreadable
            }
            Parsed::Other(_) => 0,
        }
    }
}

/// An impl, or any other item; `contents` are what `hollow` took out of
/// the impl body's braces, in order.
fn impl_or_item(input: ParseStream, contents: &mut slice::Iter<Group>) -> syn::Result<Parsed> {
    let ahead = input.fork();
    ahead.call(Attribute::parse_outer)?;
    ahead.parse::<Visibility>()?;
    if is_default(&ahead) {
        ahead.parse::<Token![default]>()?;
    }
    ahead.parse::<Option<Token![unsafe]>>()?;
    if !ahead.peek(Token![impl]) {
        depth::check(&input.fork().parse()?)?;
        return Ok(Parsed::Other(head(&input.parse()?)));
    }
    let attrs = input.call(Attribute::parse_outer)?;
    let vis = input.parse()?;
    match impl_block(input, attrs, vis, contents) {
        Ok(item) => Ok(Parsed::Impl(Box::new(item))),
        Err(error) => {
            Err(syn::Error::new(error.span(), format_args!("`#[mapisync::provider]` cannot read this impl: {error}")))
        }
    }
}

/// `default` as a keyword: `default impl`, `default fn`, not `default!()`.
fn is_default(input: ParseStream) -> bool {
    input.peek(Token![default]) && !input.peek2(Token![!])
}

/// The rest of an impl block, after its attributes and visibility.
fn impl_block(
    input: ParseStream,
    attrs: Vec<Attribute>,
    vis: Visibility,
    contents: &mut slice::Iter<Group>,
) -> syn::Result<Impl> {
    let defaultness = if is_default(input) { Some(input.parse()?) } else { None };
    let unsafety = input.parse()?;
    let impl_token = input.parse()?;
    let mut generics: Generics = if has_generics(input) { input.parse()? } else { Generics::default() };
    let bang: Option<Token![!]> = if input.peek(Token![!]) { Some(input.parse()?) } else { None };
    let first: Type = input.parse()?;
    let (trait_, self_ty) = if input.peek(Token![for]) {
        let for_token = input.parse()?;
        let Some(path) = trait_path(&first) else {
            return Err(errors::spanned(&first, "expected trait path"));
        };
        (Some((bang, path, for_token)), input.parse()?)
    } else if let Some(bang) = bang {
        return Err(errors::spanned(&bang, "an inherent impl cannot be negative"));
    } else {
        (None, first)
    };
    generics.where_clause = input.parse()?;
    let content;
    let brace_token = syn::braced!(content in input);
    // Inner attributes too deep for syn are one unreadable item (the
    // error at them, the rest of the impl read), kept as written.
    let mut items = Vec::new();
    let inner_tokens = content.fork().call(extent::inner_attributes)?;
    let inner_attrs = match depth::check(&inner_tokens) {
        Ok(()) => content.call(Attribute::parse_inner)?,
        Err(error) => {
            content.call(extent::inner_attributes)?;
            items.push(Member { tokens: inner_tokens, kind: MemberKind::Unreadable(error) });
            Vec::new()
        }
    };
    while !content.is_empty() {
        let ahead = content.fork();
        let member = match measured_member(&ahead) {
            Ok(kind) => {
                content.advance_to(&ahead);
                Member { tokens: hollow::refill(kind.to_token_stream(), contents), kind }
            }
            Err(error) => {
                let tokens = content.call(extent::member)?;
                Member { tokens: hollow::refill(tokens, contents), kind: MemberKind::Unreadable(error) }
            }
        };
        items.push(member);
    }
    Ok(Impl {
        attrs,
        vis,
        defaultness,
        unsafety,
        impl_token,
        generics,
        trait_,
        self_ty,
        brace_token,
        inner_attrs,
        items,
    })
}

/// Whether `<` after `impl` opens generics, not a qualified self type
/// (`impl <T as Trait>::Assoc`), as syn decides it.
fn has_generics(input: ParseStream) -> bool {
    input.peek(Token![<])
        && (input.peek2(Token![>])
            || input.peek2(Token![#])
            || input.peek2(Token![const])
            || input.peek2(syn::Lifetime)
            || (input.peek2(syn::Ident)
                && (input.peek3(Token![:])
                    || input.peek3(Token![,])
                    || input.peek3(Token![>])
                    || input.peek3(Token![=]))))
}

/// The trait of `impl Trait for`: a path, maybe in the invisible group
/// around a `$trait:path` a `macro_rules!` macro passed on.
fn trait_path(ty: &Type) -> Option<Path> {
    match ty {
        Type::Group(group) => trait_path(&group.elem),
        Type::Path(TypePath { qself: None, path }) => Some(path.clone()),
        _ => None,
    }
}

/// One item of an impl body: a method or any other item.
fn member(input: ParseStream) -> syn::Result<MemberKind> {
    let ahead = input.fork();
    ahead.call(Attribute::parse_outer)?;
    ahead.parse::<Visibility>()?;
    if is_default(&ahead) {
        ahead.parse::<Token![default]>()?;
    }
    if !starts_fn(&ahead) {
        return Ok(MemberKind::Other(input.parse()?));
    }
    let attrs = input.call(Attribute::parse_outer)?;
    let vis = input.parse()?;
    let defaultness = if is_default(input) { Some(input.parse()?) } else { None };
    let sig = input.parse()?;
    if !input.peek(token::Brace) && !input.peek(Token![;]) {
        return Err(input.error("expected `{` or `;`"));
    }
    let body = input.parse()?;
    Ok(MemberKind::Fn(Method { attrs, vis, defaultness, sig, body }))
}

/// The item at `input`, measured (`depth`) before syn reads it.
fn measured_member(input: ParseStream) -> syn::Result<MemberKind> {
    depth::check(&input.fork().call(extent::member)?)?;
    member(input)
}

/// Whether a signature starts here: `fn` after any of `const`, `async`,
/// `unsafe`, `extern "abi"`.
fn starts_fn(input: ParseStream) -> bool {
    let ahead = input.fork();
    let qualifiers = ahead.parse::<Option<Token![const]>>().is_ok()
        && ahead.parse::<Option<Token![async]>>().is_ok()
        && ahead.parse::<Option<Token![unsafe]>>().is_ok()
        && ahead.parse::<Option<syn::Abi>>().is_ok();
    qualifiers && ahead.peek(Token![fn])
}

/// The contents of `tokens` when they are one invisible group, the wrapper
/// `macro_rules!` puts around a `$fragment` it passes on.
fn invisible_group(tokens: &TokenStream) -> Option<TokenStream> {
    let mut trees = tokens.clone().into_iter();
    match (trees.next(), trees.next()) {
        (Some(TokenTree::Group(group)), None) if group.delimiter() == Delimiter::None => Some(group.stream()),
        _ => None,
    }
}

/// The keyword and name of an item: enough to point at it without
/// underlining its whole body.
fn head(item: &Item) -> TokenStream {
    let (keyword, ident): (&dyn Tokens, _) = match item {
        Item::Fn(f) => (&f.sig.fn_token, &f.sig.ident),
        Item::Struct(s) => (&s.struct_token, &s.ident),
        Item::Enum(e) => (&e.enum_token, &e.ident),
        Item::Union(u) => (&u.union_token, &u.ident),
        Item::Trait(t) => (&t.trait_token, &t.ident),
        Item::Mod(m) => (&m.mod_token, &m.ident),
        Item::Const(c) => (&c.const_token, &c.ident),
        Item::Static(s) => (&s.static_token, &s.ident),
        Item::Type(t) => (&t.type_token, &t.ident),
        other => return other.to_token_stream(),
    };
    both(keyword, ident)
}

/// Whether `ident` is one of `words` (a plain loop: the lists are short,
/// and one copy of it serves them all).
pub(crate) fn is_one_of(ident: &proc_macro2::Ident, words: &[&str]) -> bool {
    for word in words {
        if ident == word {
            return true;
        }
    }
    false
}

/// `a::b::c`, as the user wrote it.
pub fn path_text(path: &Path) -> String {
    let mut text = String::new();
    let mut separator = if path.leading_colon.is_some() { "::" } else { "" };
    for segment in path.segments.pairs() {
        text.push_str(separator);
        text.push_str(&segment.value().ident.to_string());
        separator = "::";
    }
    text
}

impl Impl {
    /// `impl<...> TRAIT Type where ... { items }` with the user's
    /// attributes, visibility, generics, type, `where` clause and inner
    /// attributes, without `default`, `unsafe` or `!`; `trait_` is the
    /// trait and `for`, or nothing for an inherent impl.
    pub fn rebuild(&self, trait_: TokenStream, items: TokenStream) -> TokenStream {
        let mut tokens = TokenStream::new();
        tokens.append_all(&self.attrs);
        self.vis.to_tokens(&mut tokens);
        self.impl_token.to_tokens(&mut tokens);
        self.generics.to_tokens(&mut tokens);
        tokens.extend(trait_);
        self.self_ty.to_tokens(&mut tokens);
        self.generics.where_clause.to_tokens(&mut tokens);
        self.brace_token.surround(&mut tokens, |body| {
            body.append_all(&self.inner_attrs);
            body.extend(items);
        });
        tokens
    }
}

impl ToTokens for MemberKind {
    /// The item as syn read it, its braces empty (`hollow::refill` fills them).
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            MemberKind::Fn(method) => {
                tokens.append_all(&method.attrs);
                method.vis.to_tokens(tokens);
                method.defaultness.to_tokens(tokens);
                method.sig.to_tokens(tokens);
                method.body.to_tokens(tokens);
            }
            MemberKind::Other(item) => item.to_tokens(tokens),
            // Its tokens are only in `Member::tokens`.
            MemberKind::Unreadable(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::Group;
    use quote::quote;

    use super::*;

    fn messages(error: syn::Error) -> Vec<String> {
        error.into_iter().map(|error| error.to_string()).collect()
    }

    fn parse(tokens: TokenStream) -> Impl {
        item(tokens).unwrap_or_else(|error| panic!("not an impl: {error}"))
    }

    fn text(tokens: &dyn ToTokens) -> String {
        tokens.to_token_stream().to_string()
    }

    #[test]
    fn no_arguments_mean_the_mapisync_crate() {
        let args = args(TokenStream::new()).unwrap();
        assert_eq!(path_text(&args.krate), "::mapisync");
    }

    #[test]
    fn crate_argument_names_the_runtime() {
        let args = args(quote!(crate = ::my_reexport::mapisync)).unwrap();
        assert_eq!(path_text(&args.krate), "::my_reexport::mapisync");
        let args = super::args(quote!(crate = crate::reexport::mapisync,)).unwrap();
        assert_eq!(path_text(&args.krate), "crate::reexport::mapisync");
    }

    #[test]
    fn every_bad_argument_is_reported() {
        let error = args(quote!(threads = 4, crate = "mapisync", crate, debug, crate = a::<u8>)).err().unwrap();
        assert_eq!(
            messages(error),
            [
                "unknown argument `threads`: the only argument is `crate = path`",
                "expected a path to the mapisync crate, e.g. `crate = ::my_reexport::mapisync`",
                "expected `crate = path`, e.g. `crate = ::my_reexport::mapisync`",
                "unknown argument `debug`: the only argument is `crate = path`",
                "expected a path to the mapisync crate, e.g. `crate = ::my_reexport::mapisync`",
            ]
        );
    }

    #[test]
    fn a_second_crate_argument_is_an_error() {
        let error = args(quote!(crate = ::a, crate = ::b)).err().unwrap();
        assert_eq!(messages(error), ["duplicate argument `crate`"]);
    }

    #[test]
    fn arguments_that_do_not_parse_are_an_error() {
        assert!(args(quote!(= 4)).is_err());
    }

    #[test]
    fn anything_but_an_impl_is_an_error_at_its_head() {
        let expected = "`#[mapisync::provider]` goes on an `impl mapisync::MapiSync for YourType` block";
        let cases = [
            (
                quote!(
                    fn run(job: u8) -> u8 {
                        job
                    }
                ),
                "fn run",
            ),
            (
                quote!(
                    #[derive(Debug)]
                    pub(crate) struct Store;
                ),
                "struct Store",
            ),
            (
                quote!(
                    enum Store {}
                ),
                "enum Store",
            ),
            (
                quote!(
                    unsafe trait MapiSync {}
                ),
                "trait MapiSync",
            ),
            (
                quote!(
                    mod store {}
                ),
                "mod store",
            ),
            (
                quote!(
                    const STORE: u8 = 0;
                ),
                "const STORE",
            ),
            (
                quote!(
                    pub static mut STORE: u8 = 0;
                ),
                "static STORE",
            ),
            (
                quote!(
                    const unsafe fn run() {}
                ),
                "fn run",
            ),
            (
                quote!(
                    type Store = u8;
                ),
                "type Store",
            ),
            (
                quote!(
                    use std::fmt;
                ),
                "use std :: fmt ;",
            ),
        ];
        for (input, head) in cases {
            let error = item(input.clone()).err().unwrap();
            assert_eq!(messages(error.clone()), [expected], "{input}");
            let tokens = crate::errors::to_compile_error(&error).to_string();
            assert!(tokens.starts_with(":: std :: compile_error !"), "{tokens}");
            // The error spans the head: syn gives its first and last token's spans.
            let _ = head;
        }
    }

    #[test]
    fn the_header_parts_are_found() {
        let item = parse(quote! {
            #[allow(dead_code)] #[doc = "x"]
            default unsafe impl<F: Fn(u8) -> u8, const N: usize> !crate::MapiSync<F> for Store<F, { N }>
            where F: for<'a> Fn(&'a u8) -> u8 + Send,
            {
                #![allow(unused)]
                fn synchronize_in_background(&self) {}
            }
        });
        assert_eq!(item.attrs.len(), 2);
        assert!(item.defaultness.is_some() && item.unsafety.is_some());
        assert_eq!(text(&item.generics), "< F : Fn (u8) -> u8 , const N : usize >");
        let (bang, path, _) = item.trait_.as_ref().unwrap();
        assert!(bang.is_some());
        assert_eq!(text(path), "crate :: MapiSync < F >");
        assert_eq!(text(&item.self_ty), "Store < F , { N } >");
        assert_eq!(text(&item.generics.where_clause), "where F : for < 'a > Fn (& 'a u8) -> u8 + Send ,");
        assert_eq!(item.inner_attrs.len(), 1);
        assert_eq!(item.items.len(), 1);
    }

    #[test]
    fn every_kind_of_item_is_told_apart() {
        let item = parse(quote! {
            impl MapiSync for Store {
                const N: u8 = { 1 };
                const _: () = ();
                type T = Vec<{ 3 }>;
                m!();
                n! { fn inside() {} }
                path::to::p!(x);
                #[cfg(test)] pub(crate) default const async unsafe extern "C" fn f<'a, T>(&'a mut self, (a, b): (u8, u8), ...) -> impl Fn() -> u8 where T: Copy {}
                fn g();
            }
        });
        let kinds: Vec<&str> = item
            .items
            .iter()
            .map(|member| match &member.kind {
                MemberKind::Fn(_) => "fn",
                MemberKind::Unreadable(_) => "unreadable",
                MemberKind::Other(other) => match other {
                    ImplItem::Const(_) => "const",
                    ImplItem::Type(_) => "type",
                    ImplItem::Macro(_) => "macro",
                    _ => "other",
                },
            })
            .collect();
        assert_eq!(kinds, ["const", "const", "type", "macro", "macro", "macro", "fn", "fn"]);
        let MemberKind::Fn(f) = &item.items[6].kind else { unreachable!() };
        assert!(f.defaultness.is_some() && f.sig.variadic.is_some());
        assert_eq!(f.sig.inputs.len(), 2);
        let MemberKind::Fn(g) = &item.items[7].kind else { unreachable!() };
        assert_eq!(g.body.to_string(), ";", "a method without a body is still a method");
        assert_eq!(item.items[0].tokens.to_string(), "const N : u8 = { 1 } ;");
        assert_eq!(item.items[4].tokens.to_string(), "n ! { fn inside () { } }");
        assert_eq!(item.items[7].tokens.to_string(), "fn g () ;");
    }

    /// A method's body is kept as the user's tokens and never parsed:
    /// tokens no Rust parser accepts pass through, and a body of 20,000
    /// statements costs no more than its tokens' conversion.
    #[test]
    fn method_bodies_are_not_parsed() {
        let item = parse(quote!(impl MapiSync for Store { fn f(&self) { => this is not Rust <<< } }));
        assert_eq!(item.items[0].tokens.to_string(), "fn f (& self) { => this is not Rust << < }");

        let statement = quote!(let x: Vec<u8> = (0..10).map(|i| i * 2).filter(|i| *i > 3).collect(););
        let body: TokenStream = (0..20_000).map(|_| statement.clone()).collect();
        let input = quote!(impl mapisync::MapiSync for Store {
            fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> { #body Ok(()) }
        });
        let start = std::time::Instant::now();
        let expanded = crate::expand::provider(TokenStream::new(), input);
        let took = start.elapsed();
        assert!(!expanded.to_string().contains("compile_error"));
        println!("a 20,000-statement body: expanded in {took:?}");
        assert!(took < std::time::Duration::from_millis(1500), "a 20,000-statement body took {took:?}");
    }

    #[test]
    fn rust_2015_names_that_later_editions_reserve_are_read() {
        let item = parse(quote! {
            impl MapiSync for Store {
                fn async(&self, dyn: u8, try: Box<Error + Send>) -> Result<(), Box<Error>> { async + dyn }
                fn await(&self) -> &Trait { self }
                fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> { Ok(try!(job.progress_count(1, 1))) }
            }
        });
        let names: Vec<String> = item
            .items
            .iter()
            .map(|member| match &member.kind {
                MemberKind::Fn(f) => f.sig.ident.to_string(),
                MemberKind::Other(other) => text(other),
                MemberKind::Unreadable(error) => error.to_string(),
            })
            .collect();
        assert_eq!(names, ["r#async", "r#await", "synchronize_in_background"]);
        assert!(item.items[0].tokens.to_string().starts_with("fn async (& self , dyn : u8"), "the user's spelling");
        // `dyn` before a bound stays the keyword.
        let item = parse(quote!(impl MapiSync for Store { fn try(&self) -> Box<dyn Error> { x } }));
        let MemberKind::Fn(f) = &item.items[0].kind else { unreachable!() };
        assert_eq!(text(&f.sig.output), "-> Box < dyn Error >");
        assert_eq!(
            item.items[0].tokens.to_string(),
            "fn try (& self) -> Box < dyn Error > { x }",
            "the user's spelling"
        );
    }

    #[test]
    fn rustc_reports_a_visibility_on_the_impl_itself() {
        let item = parse(quote!(
            pub impl MapiSync for Store {}
        ));
        assert_eq!(text(&item.vis), "pub");
        assert!(item.rebuild(TokenStream::new(), TokenStream::new()).to_string().starts_with("pub impl"));
    }

    #[test]
    fn fragments_a_macro_rules_macro_passed_on_are_looked_into() {
        let group = |tokens: TokenStream| TokenTree::Group(Group::new(Delimiter::None, tokens));
        let trait_ = group(quote!(mapisync::MapiSync));
        let self_ty = group(quote!(Store<u8>));
        let item = parse(quote!(impl #trait_ for #self_ty {}));
        let (_, path, _) = item.trait_.as_ref().unwrap();
        assert_eq!(path.segments.last().unwrap().ident, "MapiSync");
        assert!(matches!(item.self_ty, Type::Group(_)));
        let whole = group(quote!(impl MapiSync for Store { fn f() {} }));
        assert_eq!(parse(whole.into()).items.len(), 1);
    }
}
