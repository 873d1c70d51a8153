//! One definition of `synchronize_in_background`: exactly
//! `fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()>`.

use proc_macro2::TokenStream;
use syn::{FnArg, Receiver, ReturnType, Signature, Type, TypePath, Visibility};

use super::types;
use crate::errors::{Errors, Tokens};
use crate::model::METHOD;
use crate::parse::Method;

/// Runs every check of the method's signature.
pub fn check(method: &Method, errors: &mut Errors) {
    let sig = &method.sig;
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
    if !matches!(method.vis, Visibility::Inherited) {
        errors.spanned(&method.vis, "remove the visibility: a trait method is as visible as its trait");
    }
}

/// Not a `default fn`.
fn not_default(method: &Method, errors: &mut Errors) {
    cannot_be(&method.defaultness, "a `default fn`", errors);
}

/// Not a `const fn`.
fn not_const(sig: &Signature, errors: &mut Errors) {
    cannot_be(&sig.constness, "a `const fn`", errors);
}

/// Not `async`: the method already runs on its own worker thread.
fn not_async(sig: &Signature, errors: &mut Errors) {
    let why = "`async`: it already runs on its own worker thread, so block on any future inside it";
    cannot_be(&sig.asyncness, why, errors);
}

/// Not an `unsafe fn`: the runtime calls it from safe code.
fn not_unsafe(sig: &Signature, errors: &mut Errors) {
    let why = "an `unsafe fn`: the runtime calls it from safe code; use `unsafe` blocks inside it";
    cannot_be(&sig.unsafety, why, errors);
}

/// Not `extern`: the macro writes the COM entry point.
fn not_extern(sig: &Signature, errors: &mut Errors) {
    let why = "`extern`: it is a plain Rust method; the macro writes the COM entry point";
    cannot_be(&sig.abi, why, errors);
}

/// No generic parameters. (A `where` clause is rustc's to judge: it accepts
/// bounds that hold, such as `where Self: Sized`, and reports stricter ones.)
fn not_generic(sig: &Signature, errors: &mut Errors) {
    if !sig.generics.params.is_empty() {
        errors.spanned(&sig.generics, &format!("`{METHOD}` cannot be generic"));
    }
}

/// Not variadic.
fn not_variadic(sig: &Signature, errors: &mut Errors) {
    cannot_be(&sig.variadic, "variadic", errors);
}

/// Reports "`synchronize_in_background` cannot be {what}" at `found`, when
/// the method has it (an absent qualifier, `None`, is no tokens).
fn cannot_be(found: &dyn Tokens, what: &str, errors: &mut Errors) {
    let mut tokens = TokenStream::new();
    found.append_to(&mut tokens);
    if !tokens.is_empty() {
        errors.spanned(&tokens, &format!("`{METHOD}` cannot be {what}"));
    }
}

/// `&self` (or `self: &Self`) comes first: every COM reference shares the object.
fn shared_receiver_first(sig: &Signature, errors: &mut Errors) {
    let Some(FnArg::Receiver(receiver)) = sig.inputs.first() else {
        let message = format!("`{METHOD}` must take `&self` first: `(&self, job: &mut mapisync::SyncJob)`");
        errors.push(syn::Error::new(sig.paren_token.span.join(), message));
        return;
    };
    if is_shared_ref(receiver) {
        return;
    }
    let why = if receiver.colon_token.is_none() && receiver.reference.is_some() {
        "the object is shared by every COM reference, so keep mutable state behind a `Mutex` or atomics"
    } else {
        "the COM object owns the provider and lends it to each call"
    };
    errors.spanned(receiver, &format!("`{METHOD}` must take `&self`: {why}"));
}

/// Exactly one parameter after the receiver, not surely other than `&mut SyncJob`.
fn one_job_parameter(sig: &Signature, errors: &mut Errors) {
    let mut count = 0;
    let mut first = true;
    for input in sig.inputs.pairs() {
        let input = input.into_value();
        if std::mem::take(&mut first) && matches!(input, FnArg::Receiver(_)) {
            continue;
        }
        count += 1;
        match input {
            FnArg::Typed(typed) if count == 1 => {
                if types::surely_not_sync_job_ref(&typed.ty) {
                    errors.spanned(
                        &typed.ty,
                        "expected `&mut mapisync::SyncJob`: the job the method reports progress through",
                    );
                }
            }
            FnArg::Typed(_) => {
                errors.spanned(input, "unexpected parameter: the method takes only `job: &mut mapisync::SyncJob`")
            }
            FnArg::Receiver(receiver) => errors.spanned(receiver, "`self` can only be the first parameter"),
        }
    }
    if count == 0 {
        errors.push(syn::Error::new(sig.paren_token.span.join(), "missing parameter `job: &mut mapisync::SyncJob`"));
    }
}

/// Returns a type not surely other than `mapisync::Result<()>`: its `Err` reaches `Done`.
fn returns_unit_result(sig: &Signature, errors: &mut Errors) {
    match &sig.output {
        ReturnType::Default => errors.push(syn::Error::new(
            sig.paren_token.span.close(),
            "missing return type `-> mapisync::Result<()>`: its `Err` is the HRESULT that reaches `Done`",
        )),
        ReturnType::Type(_, ty) if types::surely_not_unit_result(ty) => {
            errors.spanned(ty, "expected `mapisync::Result<()>`: its `Err` is the HRESULT that reaches `Done`")
        }
        ReturnType::Type(..) => {}
    }
}

/// `&self` or `self: &Self`.
fn is_shared_ref(receiver: &Receiver) -> bool {
    match (&receiver.colon_token, &receiver.reference) {
        (Some(_), _) => matches!(&*receiver.ty, Type::Reference(reference)
            if reference.mutability.is_none() && is_self(&reference.elem)),
        (None, Some(_)) => receiver.mutability.is_none(),
        (None, None) => false,
    }
}

/// `Self`.
fn is_self(ty: &Type) -> bool {
    matches!(ty, Type::Path(TypePath { qself: None, path }) if path.is_ident("Self"))
}
