//! Judgments of the types the user wrote: which are surely wrong (the rest
//! is left to rustc), and which borrow.

use proc_macro2::Ident;

use crate::errors::Errors;
use crate::syntax::{Arguments, GenericArg, Impl, Type, TypeKind};

/// Whether `ty` is surely not `&mut mapisync::SyncJob`. A path the macro
/// cannot judge (`&mut Job` after `use mapisync::SyncJob as Job`, an alias of
/// the whole reference) is left to rustc.
pub fn surely_not_sync_job_ref(ty: &Type) -> bool {
    match &ty.kind {
        TypeKind::Reference { mutable, elem, .. } => !mutable || surely_not_named(elem, "SyncJob"),
        // By value: `SyncJob` itself, or a type of the prelude.
        TypeKind::Path { qself: None, path } => {
            path.segments.last().is_some_and(|last| last.ident == "SyncJob" || is_prelude_type(&last.ident))
        }
        _ => surely_not_a_path(ty, surely_not_sync_job_ref),
    }
}

/// Whether `ty` is surely not `mapisync::Result<()>`, i.e.
/// `core::result::Result<(), mapisync::Error>`. A path the macro cannot judge
/// (an alias, `Result` with an `Error` of any name) is left to rustc.
pub fn surely_not_unit_result(ty: &Type) -> bool {
    let TypeKind::Path { qself: None, path } = &ty.kind else {
        return surely_not_a_path(ty, surely_not_unit_result);
    };
    let Some(last) = path.segments.last() else {
        return false;
    };
    if last.ident != "Result" {
        return is_prelude_type(&last.ident);
    }
    let arguments = match &last.arguments {
        Arguments::None => return false,
        Arguments::Parenthesized(_) => return true,
        Arguments::Angle(_, arguments) => arguments,
    };
    let mut types = arguments.iter().filter_map(|argument| match argument {
        GenericArg::Type(ty) => Some(ty),
        _ => None,
    });
    let (ok, error) = (types.next(), types.next());
    arguments.len() > 2
        || ok.is_some_and(surely_not_unit)
        || error.is_some_and(|error| surely_not_named(error, "Error"))
}

/// Whether `ty` is surely not `()`: another tuple, or a type of the prelude.
fn surely_not_unit(ty: &Type) -> bool {
    match &ty.kind {
        TypeKind::Tuple(elems) => !elems.is_empty(),
        TypeKind::Path { qself: None, path } => path.segments.last().is_some_and(|last| is_prelude_type(&last.ident)),
        _ => surely_not_a_path(ty, surely_not_unit),
    }
}

/// Whether `ty` is surely not the type `name` (a path, argument-free): a
/// type that is no path, `name` with generic arguments, or a type of the
/// prelude. Any other path may be a renamed import or an alias.
fn surely_not_named(ty: &Type, name: &str) -> bool {
    match &ty.kind {
        TypeKind::Path { qself: None, path } => path.segments.last().is_some_and(|last| {
            (last.ident == name && !matches!(last.arguments, Arguments::None)) || is_prelude_type(&last.ident)
        }),
        _ => surely_not_a_path(ty, |ty| surely_not_named(ty, name)),
    }
}

/// For a type that is not a plain path: whether it is surely not one.
/// Parentheses and groups are looked through with `inner`; a macro, a
/// qualified path (`<T as Trait>::Output`) or unknown tokens may be anything.
fn surely_not_a_path(ty: &Type, inner: impl Fn(&Type) -> bool) -> bool {
    match &ty.kind {
        TypeKind::Paren(elem) | TypeKind::Group(elem) => inner(elem),
        TypeKind::Macro | TypeKind::Unknown | TypeKind::Path { .. } => false,
        _ => true,
    }
}

/// The primitive types and the prelude's own types: the macro takes these
/// names at their word (shadowing them is legal but nobody does it).
fn is_prelude_type(ident: &Ident) -> bool {
    const NAMES: [&str; 22] = [
        "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "String", "Vec", "Box", "Option", "Result",
    ];
    NAMES.iter().any(|name| ident == name)
}

/// The provider type borrows nothing (with generics, their error covers its
/// lifetimes): a COM object lives as long as its last reference.
pub fn no_borrowed_lifetimes(item: &Impl, errors: &mut Errors) {
    if item.generics.as_ref().is_none_or(super::is_empty_generics) {
        borrowed_lifetimes(&item.self_ty, errors);
    }
}

/// Reports every lifetime in `ty` other than `'static`.
fn borrowed_lifetimes(ty: &Type, errors: &mut Errors) {
    const WHY: &str = "the provider type cannot borrow: a COM object lives as long as its last reference, so the type must be `'static`";
    match &ty.kind {
        TypeKind::Reference { and_token, lifetime, elem, .. } => {
            match lifetime {
                Some(lifetime) if lifetime.name == "static" => {}
                Some(lifetime) => errors.spanned(lifetime.tokens.clone(), WHY),
                None => errors.spanned(and_token.clone(), WHY),
            }
            borrowed_lifetimes(elem, errors);
        }
        TypeKind::Path { qself, path } => {
            if let Some(qself) = qself {
                borrowed_lifetimes(qself, errors);
            }
            for segment in &path.segments {
                let Arguments::Angle(_, arguments) = &segment.arguments else {
                    continue;
                };
                for argument in arguments {
                    match argument {
                        GenericArg::Lifetime(lifetime) if lifetime.name != "static" => {
                            errors.spanned(lifetime.tokens.clone(), WHY)
                        }
                        GenericArg::Type(inner) => borrowed_lifetimes(inner, errors),
                        _ => {}
                    }
                }
            }
        }
        TypeKind::Slice(elem) | TypeKind::Paren(elem) | TypeKind::Group(elem) | TypeKind::Ptr(elem) => {
            borrowed_lifetimes(elem, errors)
        }
        TypeKind::Tuple(elems) => elems.iter().for_each(|elem| borrowed_lifetimes(elem, errors)),
        TypeKind::Macro | TypeKind::NotPath | TypeKind::Unknown => {}
    }
}
