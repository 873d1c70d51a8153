//! Judgments of the types the user wrote: which are surely wrong (the rest
//! is left to rustc), and which borrow.

use syn::{GenericArgument, Ident, PathArguments, TraitBoundModifier, Type, TypeParamBound, TypePath, TypeTraitObject};

use crate::errors::Errors;
use crate::parse::{Impl, is_one_of};

/// Whether `ty` is surely not `&mut mapisync::SyncJob`. A path the macro
/// cannot judge (`&mut Job` after `use mapisync::SyncJob as Job`, an alias of
/// the whole reference) is left to rustc.
pub fn surely_not_sync_job_ref(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => reference.mutability.is_none() || surely_not_named(&reference.elem, "SyncJob"),
        // By value: `SyncJob` itself, or a type of the prelude.
        Type::Path(TypePath { qself: None, path }) => {
            matches!(path.segments.last(), Some(last) if last.ident == "SyncJob" || is_prelude_type(&last.ident))
        }
        other => surely_not_a_path(other, &surely_not_sync_job_ref),
    }
}

/// Whether `ty` is surely not `mapisync::Result<()>`, i.e.
/// `core::result::Result<(), mapisync::Error>`. A path the macro cannot judge
/// (an alias, `Result` with an `Error` of any name) is left to rustc.
pub fn surely_not_unit_result(ty: &Type) -> bool {
    let Type::Path(TypePath { qself: None, path }) = ty else {
        return surely_not_a_path(ty, &surely_not_unit_result);
    };
    let Some(last) = path.segments.last() else {
        return false;
    };
    if last.ident != "Result" {
        return is_prelude_type(&last.ident);
    }
    let arguments = match &last.arguments {
        PathArguments::None => return false,
        PathArguments::Parenthesized(_) => return true,
        PathArguments::AngleBracketed(arguments) => &arguments.args,
    };
    if arguments.len() > 2 {
        return true;
    }
    // The first type argument is `()`'s place, the second `Error`'s.
    let mut types = 0;
    for argument in arguments.pairs() {
        if let GenericArgument::Type(ty) = argument.value() {
            types += 1;
            let surely_not = if types == 1 { surely_not_unit(ty) } else { surely_not_named(ty, "Error") };
            if surely_not {
                return true;
            }
        }
    }
    false
}

/// Whether `ty` is surely not `()`: another tuple, or a type of the prelude.
fn surely_not_unit(ty: &Type) -> bool {
    match ty {
        Type::Tuple(tuple) => !tuple.elems.is_empty(),
        Type::Path(TypePath { qself: None, path }) => {
            matches!(path.segments.last(), Some(last) if is_prelude_type(&last.ident))
        }
        other => surely_not_a_path(other, &surely_not_unit),
    }
}

/// Whether `ty` is surely not the type `name` (a path, argument-free): a
/// type that is no path, `name` with generic arguments, or a type of the
/// prelude. Any other path may be a renamed import or an alias.
fn surely_not_named(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(TypePath { qself: None, path }) => matches!(path.segments.last(),
            Some(last) if (last.ident == name && !last.arguments.is_none()) || is_prelude_type(&last.ident)),
        other => surely_not_a_path(other, &|ty| surely_not_named(ty, name)),
    }
}

/// For a type that is not a plain path: whether it is surely not one.
/// Parentheses and groups are looked through with `inner`; a macro, a
/// qualified path (`<T as Trait>::Output`) or unparsed tokens may be anything,
/// and so may `dyn ::a::B`: in Rust 2015 it is the path `dyn::a::B`.
fn surely_not_a_path(ty: &Type, inner: &dyn Fn(&Type) -> bool) -> bool {
    match ty {
        Type::Paren(paren) => inner(&paren.elem),
        Type::Group(group) => inner(&group.elem),
        Type::Macro(_) | Type::Verbatim(_) | Type::Path(_) => false,
        Type::TraitObject(object) => !may_be_a_2015_path(object),
        _ => true,
    }
}

/// Whether `object` is `dyn ::path`, one bound and nothing more: the tokens
/// of the path `dyn::path` in Rust 2015, which the macro cannot tell apart.
fn may_be_a_2015_path(object: &TypeTraitObject) -> bool {
    object.dyn_token.is_some()
        && object.bounds.len() == 1
        && matches!(object.bounds.first(), Some(TypeParamBound::Trait(bound))
            if bound.path.leading_colon.is_some() && bound.lifetimes.is_none() && bound.paren_token.is_none()
                && matches!(bound.modifier, TraitBoundModifier::None))
}

/// The primitive types and the prelude's own types: the macro takes these
/// names at their word (shadowing them is legal but nobody does it).
fn is_prelude_type(ident: &Ident) -> bool {
    const NAMES: [&str; 22] = [
        "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "String", "Vec", "Box", "Option", "Result",
    ];
    is_one_of(ident, &NAMES)
}

/// The provider type borrows nothing (with generics, their error covers its
/// lifetimes): a COM object lives as long as its last reference.
pub fn no_borrowed_lifetimes(item: &Impl, errors: &mut Errors) {
    if item.generics.params.is_empty() {
        borrowed_lifetimes(&item.self_ty, errors);
    }
}

/// Reports every lifetime in `ty` other than `'static`.
fn borrowed_lifetimes(ty: &Type, errors: &mut Errors) {
    const WHY: &str = "the provider type cannot borrow: a COM object lives as long as its last reference, so the type must be `'static`";
    match ty {
        Type::Reference(reference) => {
            match &reference.lifetime {
                Some(lifetime) if lifetime.ident == "static" => {}
                Some(lifetime) => errors.spanned(lifetime, WHY),
                None => errors.spanned(&reference.and_token, WHY),
            }
            borrowed_lifetimes(&reference.elem, errors);
        }
        Type::Path(TypePath { qself, path }) => {
            if let Some(qself) = qself {
                borrowed_lifetimes(&qself.ty, errors);
            }
            for segment in path.segments.pairs() {
                let PathArguments::AngleBracketed(arguments) = &segment.value().arguments else {
                    continue;
                };
                for argument in arguments.args.pairs() {
                    match argument.value() {
                        GenericArgument::Lifetime(lifetime) if lifetime.ident != "static" => {
                            errors.spanned(lifetime, WHY)
                        }
                        GenericArgument::Type(inner) => borrowed_lifetimes(inner, errors),
                        _ => {}
                    }
                }
            }
        }
        Type::Array(array) => borrowed_lifetimes(&array.elem, errors),
        Type::Slice(slice) => borrowed_lifetimes(&slice.elem, errors),
        Type::Paren(paren) => borrowed_lifetimes(&paren.elem, errors),
        Type::Group(group) => borrowed_lifetimes(&group.elem, errors),
        Type::Ptr(pointer) => borrowed_lifetimes(&pointer.elem, errors),
        Type::Tuple(tuple) => {
            for elem in tuple.elems.pairs() {
                borrowed_lifetimes(elem.value(), errors);
            }
        }
        _ => {}
    }
}
