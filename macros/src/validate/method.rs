//! One definition of `synchronize_in_background`: exactly
//! `fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()>`.

use super::types;
use crate::errors::{Error, Errors};
use crate::model::METHOD;
use crate::syntax::{Method, ParamKind, Type, TypeKind};

/// Runs every check of the method's signature.
pub fn check(method: &Method, errors: &mut Errors) {
    let sig = method;
    no_visibility(method, errors);
    not_default(method, errors);
    not_const(sig, errors);
    not_async(sig, errors);
    not_unsafe(sig, errors);
    not_extern(sig, errors);
    not_generic(sig, errors);
    not_variadic(sig, errors);
    shared_receiver_first(sig, errors);
    one_job_parameter(sig, errors);
    returns_unit_result(sig, errors);
}

/// No visibility: a trait method is as visible as its trait.
fn no_visibility(method: &Method, errors: &mut Errors) {
    if let Some(vis) = &method.vis {
        errors.spanned(vis.clone(), "remove the visibility: a trait method is as visible as its trait");
    }
}

/// Not a `default fn`.
fn not_default(method: &Method, errors: &mut Errors) {
    if let Some(default) = &method.default {
        errors.spanned(default.clone(), format_args!("`{METHOD}` cannot be a `default fn`"));
    }
}

/// Not a `const fn`.
fn not_const(sig: &Method, errors: &mut Errors) {
    if let Some(constness) = &sig.constness {
        errors.spanned(constness.clone(), format_args!("`{METHOD}` cannot be a `const fn`"));
    }
}

/// Not `async`: the method already runs on its own worker thread.
fn not_async(sig: &Method, errors: &mut Errors) {
    if let Some(asyncness) = &sig.asyncness {
        errors.spanned(
            asyncness.clone(),
            format_args!(
                "`{METHOD}` cannot be `async`: it already runs on its own worker thread, so block on any future inside it"
            ),
        );
    }
}

/// Not an `unsafe fn`: the runtime calls it from safe code.
fn not_unsafe(sig: &Method, errors: &mut Errors) {
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(
            unsafety.clone(),
            format_args!(
                "`{METHOD}` cannot be an `unsafe fn`: the runtime calls it from safe code; use `unsafe` blocks inside it"
            ),
        );
    }
}

/// Not `extern`: the macro writes the COM entry point.
fn not_extern(sig: &Method, errors: &mut Errors) {
    if let Some(abi) = &sig.abi {
        errors.spanned(
            abi.clone(),
            format_args!(
                "`{METHOD}` cannot be `extern`: it is a plain Rust method; the macro writes the COM entry point"
            ),
        );
    }
}

/// No generic parameters and no `where` clause.
fn not_generic(sig: &Method, errors: &mut Errors) {
    if let Some(generics) = sig.generics.as_ref().filter(|generics| !super::is_empty_generics(generics)) {
        errors.spanned(generics.clone(), format_args!("`{METHOD}` cannot be generic"));
    }
    if let Some(where_clause) = &sig.where_clause {
        errors.spanned(where_clause.clone(), format_args!("`{METHOD}` cannot have a `where` clause"));
    }
}

/// Not variadic.
fn not_variadic(sig: &Method, errors: &mut Errors) {
    for input in sig.inputs.iter().filter(|input| matches!(input.kind, ParamKind::Variadic)) {
        errors.spanned(input.tokens.clone(), format_args!("`{METHOD}` cannot be variadic"));
    }
}

/// `&self` (or `self: &Self`) comes first: every COM reference shares the object.
fn shared_receiver_first(sig: &Method, errors: &mut Errors) {
    let Some((receiver, ParamKind::Receiver { reference, mutable, ty })) =
        sig.inputs.first().map(|input| (input, &input.kind))
    else {
        let message = format!("`{METHOD}` must take `&self` first: `(&self, job: &mut mapisync::SyncJob)`");
        errors.push(Error::new(sig.paren.span(), message));
        return;
    };
    if is_shared_ref(*reference, *mutable, ty.as_ref()) {
        return;
    }
    let why = if ty.is_none() && *reference {
        "the object is shared by every COM reference, so keep mutable state behind a `Mutex` or atomics"
    } else {
        "the COM object owns the provider and lends it to each call"
    };
    errors.spanned(receiver.tokens.clone(), format_args!("`{METHOD}` must take `&self`: {why}"));
}

/// Exactly one parameter after the receiver, not surely other than `&mut SyncJob`.
fn one_job_parameter(sig: &Method, errors: &mut Errors) {
    let skip = usize::from(matches!(sig.inputs.first().map(|input| &input.kind), Some(ParamKind::Receiver { .. })));
    let mut count = 0;
    for input in sig.inputs.iter().skip(skip) {
        match &input.kind {
            ParamKind::Variadic => continue,
            ParamKind::Typed(ty) if count == 0 => {
                if types::surely_not_sync_job_ref(ty) {
                    errors.spanned(
                        ty.tokens.clone(),
                        "expected `&mut mapisync::SyncJob`: the job the method reports progress through",
                    );
                }
            }
            ParamKind::Typed(_) => errors.spanned(
                input.tokens.clone(),
                "unexpected parameter: the method takes only `job: &mut mapisync::SyncJob`",
            ),
            ParamKind::Receiver { .. } => {
                errors.spanned(input.tokens.clone(), "`self` can only be the first parameter")
            }
        }
        count += 1;
    }
    if count == 0 {
        errors.push(Error::new(sig.paren.span(), "missing parameter `job: &mut mapisync::SyncJob`"));
    }
}

/// Returns a type not surely other than `mapisync::Result<()>`: its `Err` reaches `Done`.
fn returns_unit_result(sig: &Method, errors: &mut Errors) {
    match &sig.output {
        None => errors.push(Error::new(
            sig.paren.span_close(),
            "missing return type `-> mapisync::Result<()>`: its `Err` is the HRESULT that reaches `Done`",
        )),
        Some(ty) if types::surely_not_unit_result(ty) => errors.spanned(
            ty.tokens.clone(),
            "expected `mapisync::Result<()>`: its `Err` is the HRESULT that reaches `Done`",
        ),
        Some(_) => {}
    }
}

/// `&self` or `self: &Self`.
fn is_shared_ref(reference: bool, mutable: bool, ty: Option<&Type>) -> bool {
    match ty {
        Some(ty) => matches!(&ty.kind, TypeKind::Reference { mutable: false, elem, .. } if is_self(elem)),
        None => reference && !mutable,
    }
}

/// `Self`.
fn is_self(ty: &Type) -> bool {
    matches!(&ty.kind, TypeKind::Path { qself: None, path }
        if !path.leading_colon && path.segments.len() == 1 && path.segments[0].ident == "Self"
            && matches!(path.segments[0].arguments, crate::syntax::Arguments::None))
}
