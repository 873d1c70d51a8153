//! The few shapes of Rust syntax the macro reads, parsed straight from
//! `proc_macro2` tokens.
//!
//! The macro does not use syn: it needs only an impl's header, its items'
//! signatures and the outline of a type, and without syn it compiles while
//! the rest of a provider's dependencies wait for syn (BENCHMARKS.md, build
//! time). rustc parses an attribute's item before the attribute sees it,
//! so the input is always well-formed Rust; these parsers only find its
//! parts. Every part keeps the user's tokens: errors point at them and the
//! output re-emits them unchanged.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

/// An impl block.
pub struct Impl {
    /// All its tokens, as the user wrote them.
    pub tokens: TokenStream,
    /// Outer attributes and anything else before `default`/`unsafe`/`impl`.
    pub attrs: TokenStream,
    /// `default impl`.
    pub default: Option<TokenStream>,
    /// `unsafe impl`.
    pub unsafety: Option<TokenStream>,
    /// The `impl` keyword.
    pub impl_token: TokenStream,
    /// `<...>` after `impl`, brackets included.
    pub generics: Option<TokenStream>,
    /// `!Trait`'s `!`.
    pub bang: Option<TokenStream>,
    /// The trait and `for`, in a trait impl.
    pub trait_: Option<(Path, TokenStream)>,
    /// The type the impl is for.
    pub self_ty: Type,
    /// `where ...`, up to the body.
    pub where_clause: Option<TokenStream>,
    /// The span of the body's braces.
    pub brace: Span,
    /// The body's inner attributes (`#![...]`).
    pub inner_attrs: TokenStream,
    /// The body's items, in order.
    pub items: Vec<Member>,
}

/// A path: `a::b::C<T>`.
pub struct Path {
    /// Its tokens.
    pub tokens: TokenStream,
    /// Starts with `::`.
    pub leading_colon: bool,
    /// Its segments.
    pub segments: Vec<Segment>,
}

/// One segment of a path and its generic arguments.
pub struct Segment {
    /// The name.
    pub ident: Ident,
    /// What follows the name.
    pub arguments: Arguments,
}

/// A path segment's generic arguments.
pub enum Arguments {
    /// None.
    None,
    /// `<...>`: the tokens (brackets included) and each argument.
    Angle(TokenStream, Vec<GenericArg>),
    /// `(...) -> ...`, the `Fn` traits' sugar: its tokens.
    Parenthesized(TokenStream),
}

/// One generic argument.
pub enum GenericArg {
    /// `'a`.
    Lifetime(Lifetime),
    /// A type.
    Type(Type),
    /// A constant, an associated type binding or a bound.
    Other,
}

/// A lifetime: `'a`.
pub struct Lifetime {
    /// `'` and the name.
    pub tokens: TokenStream,
    /// The name without `'`.
    pub name: String,
}

/// A type: its tokens and its outline.
pub struct Type {
    /// The user's tokens.
    pub tokens: TokenStream,
    /// What kind of type it is.
    pub kind: TypeKind,
}

/// The outline of a type, as far as the macro's judgments go.
pub enum TypeKind {
    /// A path; `qself` is the `T` of `<T as Trait>::Name`.
    Path { qself: Option<Box<Type>>, path: Path },
    /// `&'a mut T`: the `&`, the lifetime, whether `mut`, and `T`.
    Reference { and_token: TokenStream, lifetime: Option<Lifetime>, mutable: bool, elem: Box<Type> },
    /// `(A, B)`, or `()`.
    Tuple(Vec<Type>),
    /// `(T)`.
    Paren(Box<Type>),
    /// An invisible group around a type a `macro_rules!` macro passed on.
    Group(Box<Type>),
    /// `[T]` or `[T; N]`.
    Slice(Box<Type>),
    /// `*const T` or `*mut T`.
    Ptr(Box<Type>),
    /// `m!(...)`: may stand for anything.
    Macro,
    /// Surely not a path: `fn()`, `impl Trait`, `dyn Trait`, `_`, `!`, `A + B`.
    NotPath,
    /// Tokens the outline does not know: may stand for anything.
    Unknown,
}

/// An item of an impl: its tokens and what it is.
pub struct Member {
    /// All its tokens, attributes included.
    pub tokens: TokenStream,
    /// What it is.
    pub kind: MemberKind,
}

/// What an item of an impl is.
pub enum MemberKind {
    /// A method or associated function.
    Fn(Box<Method>),
    /// `const NAME: T = ...;`: `const` and the name.
    Const { const_token: TokenStream, ident: Ident },
    /// `type Name = ...;`: `type` and the name.
    Type { type_token: TokenStream, ident: Ident },
    /// `path!(...)`: the path and `!`.
    Macro { path_and_bang: TokenStream },
    /// Anything else.
    Other,
}

/// A method's attributes and signature.
pub struct Method {
    /// Each attribute's path, first segment: `cfg`, `inline`, ...
    pub attr_names: Vec<String>,
    /// `pub`, `pub(crate)`, ...
    pub vis: Option<TokenStream>,
    /// `default fn`.
    pub default: Option<TokenStream>,
    /// `const fn`.
    pub constness: Option<TokenStream>,
    /// `async fn`.
    pub asyncness: Option<TokenStream>,
    /// `unsafe fn`.
    pub unsafety: Option<TokenStream>,
    /// `extern "abi"`.
    pub abi: Option<TokenStream>,
    /// The name.
    pub ident: Ident,
    /// `<...>` after the name.
    pub generics: Option<TokenStream>,
    /// The parameters' parentheses.
    pub paren: Group,
    /// The parameters.
    pub inputs: Vec<Param>,
    /// The return type after `->`.
    pub output: Option<Type>,
    /// `where ...`.
    pub where_clause: Option<TokenStream>,
}

/// One parameter.
pub struct Param {
    /// Its tokens, attributes included.
    pub tokens: TokenStream,
    /// What it is.
    pub kind: ParamKind,
}

/// What a parameter is.
pub enum ParamKind {
    /// `self` in any form: `&self`, `&mut self`, `self`, `mut self`, `self: T`.
    Receiver {
        /// Written `&self` or `&mut self`.
        reference: bool,
        /// `&mut self` or `mut self`.
        mutable: bool,
        /// The type after `self:`.
        ty: Option<Type>,
    },
    /// `pattern: Type`.
    Typed(Type),
    /// `...`.
    Variadic,
}

/// Tokens read front to back.
struct Cursor<'a> {
    tokens: &'a [TokenTree],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(tokens: &'a [TokenTree]) -> Self {
        Cursor { tokens, pos: 0 }
    }

    fn peek(&self) -> Option<&'a TokenTree> {
        self.tokens.get(self.pos)
    }

    fn is_ident(&self, name: &str) -> bool {
        matches!(self.peek(), Some(TokenTree::Ident(ident)) if ident == name)
    }

    fn is_punct(&self, ch: char) -> bool {
        matches!(self.peek(), Some(TokenTree::Punct(punct)) if punct.as_char() == ch)
    }

    /// The next token, if it is the keyword `name`.
    fn keyword(&mut self, name: &str) -> Option<TokenStream> {
        self.is_ident(name).then(|| self.take(1))
    }

    /// The next `count` tokens.
    fn take(&mut self, count: usize) -> TokenStream {
        let end = (self.pos + count).min(self.tokens.len());
        let taken = stream(&self.tokens[self.pos..end]);
        self.pos = end;
        taken
    }

    /// The tokens from `start` to the current position.
    fn since(&self, start: usize) -> TokenStream {
        stream(&self.tokens[start..self.pos.min(self.tokens.len())])
    }

    /// Outer attributes: each `#` and its `[...]`.
    fn attributes(&mut self) -> Vec<&'a Group> {
        let mut attrs = Vec::new();
        while self.is_punct('#') {
            match self.tokens.get(self.pos + 1) {
                Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Bracket => {
                    attrs.push(group);
                    self.pos += 2;
                }
                _ => break,
            }
        }
        attrs
    }

    /// `pub`, `pub(...)`.
    fn visibility(&mut self) -> Option<TokenStream> {
        let start = self.pos;
        self.keyword("pub")?;
        if matches!(self.peek(), Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis) {
            self.pos += 1;
        }
        Some(self.since(start))
    }

    /// `<...>` if the next token opens one: up to its matching `>`.
    fn angle_brackets(&mut self) -> Option<TokenStream> {
        if !self.is_punct('<') {
            return None;
        }
        let start = self.pos;
        self.pos += angle_len(&self.tokens[self.pos..]);
        Some(self.since(start))
    }

    /// Tokens up to the first one at angle-bracket depth 0 that `stop` accepts.
    fn until(&mut self, stop: impl Fn(&TokenTree) -> bool) -> &'a [TokenTree] {
        self.pos = self.pos.min(self.tokens.len());
        let start = self.pos;
        let mut depth = 0usize;
        while let Some(token) = self.peek() {
            if depth == 0 && stop(token) {
                break;
            }
            depth = angle_depth(depth, &self.tokens[..=self.pos]);
            self.pos += 1;
        }
        &self.tokens[start..self.pos]
    }
}

/// The contents of `tokens` when they are one invisible group, the wrapper
/// `macro_rules!` puts around a `$fragment` it passes on.
fn invisible_group(tokens: &[TokenTree]) -> Option<TokenStream> {
    match tokens {
        [TokenTree::Group(group)] if group.delimiter() == Delimiter::None => Some(group.stream()),
        _ => None,
    }
}

fn stream(tokens: &[TokenTree]) -> TokenStream {
    tokens.iter().cloned().collect()
}

/// The angle-bracket depth after the last of `tokens`, from `depth` before
/// it: `<` opens, `>` closes, except the `>` of `->` and `=>`.
fn angle_depth(depth: usize, tokens: &[TokenTree]) -> usize {
    let (Some(TokenTree::Punct(last)), before) = (tokens.last(), tokens.len().checked_sub(2).map(|i| &tokens[i]))
    else {
        return depth;
    };
    let arrow = matches!(before, Some(TokenTree::Punct(p)) if matches!(p.as_char(), '-' | '=')
        && p.spacing() == proc_macro2::Spacing::Joint);
    match last.as_char() {
        '<' => depth + 1,
        '>' if !arrow => depth.saturating_sub(1),
        _ => depth,
    }
}

/// How many tokens `<...>` at the start of `tokens` spans.
fn angle_len(tokens: &[TokenTree]) -> usize {
    let mut depth = 0;
    for i in 0..tokens.len() {
        depth = angle_depth(depth, &tokens[..=i]);
        if depth == 0 {
            return i + 1;
        }
    }
    tokens.len()
}

/// `tokens` split at each comma at angle-bracket depth 0; a trailing comma
/// gives no empty last part.
pub fn split_commas(tokens: &[TokenTree]) -> Vec<&[TokenTree]> {
    let mut parts = Vec::new();
    let mut cursor = Cursor::new(tokens);
    while cursor.peek().is_some() {
        parts.push(cursor.until(|token| is_punct(token, ',')));
        cursor.pos += 1;
    }
    parts
}

fn is_punct(token: &TokenTree, ch: char) -> bool {
    matches!(token, TokenTree::Punct(punct) if punct.as_char() == ch)
}

fn is_ident(token: &TokenTree, name: &str) -> bool {
    matches!(token, TokenTree::Ident(ident) if ident == name)
}

/// A lone `:` (not half of `::`) at `tokens[i]`.
fn is_lone_colon(tokens: &[TokenTree], i: usize) -> bool {
    let joint = |token: &TokenTree| matches!(token, TokenTree::Punct(p) if p.as_char() == ':' && p.spacing() == proc_macro2::Spacing::Joint);
    is_punct(&tokens[i], ':') && !joint(&tokens[i]) && !(i > 0 && joint(&tokens[i - 1]))
}

/// What an attribute is called: the first segment of its path.
fn attr_name(attr: &Group) -> String {
    match attr.stream().into_iter().next() {
        Some(TokenTree::Ident(ident)) => ident.to_string(),
        _ => String::new(),
    }
}

/// Parses an item as an impl block; `Err` gives the tokens to point at when it is another item.
pub fn item(tokens: TokenStream) -> Result<Impl, TokenStream> {
    if let Some(inner) = invisible_group(&tokens.clone().into_iter().collect::<Vec<_>>()) {
        return item(inner); // an item a `macro_rules!` macro passed on as `$item`
    }
    let all = tokens.clone();
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut cursor = Cursor::new(&tokens);
    cursor.attributes();
    cursor.visibility();
    let attrs = cursor.since(0);
    let default = cursor.keyword("default");
    let unsafety = cursor.keyword("unsafe");
    let Some(impl_token) = cursor.keyword("impl") else {
        return Err(head(&tokens, cursor.pos));
    };
    let generics = cursor.angle_brackets();
    let bang = cursor.is_punct('!').then(|| cursor.take(1));
    let header = cursor.until(|token| {
        is_ident(token, "where") || matches!(token, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
    });
    let for_at = Cursor::new(header).until(|token| is_ident(token, "for")).len();
    let (trait_, self_ty) = if for_at < header.len() {
        let for_token = stream(&header[for_at..=for_at]);
        (Some((path(&header[..for_at]), for_token)), ty(&header[for_at + 1..]))
    } else {
        (None, ty(header))
    };
    let where_tokens = cursor.until(|token| matches!(token, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace));
    let where_clause = (!where_tokens.is_empty()).then(|| stream(where_tokens));
    let Some(TokenTree::Group(body)) = cursor.peek() else {
        return Err(head(&tokens, 0));
    };
    let body_tokens: Vec<TokenTree> = body.stream().into_iter().collect();
    let (inner_attrs, items) = members(&body_tokens);
    Ok(Impl {
        tokens: all,
        attrs,
        default,
        unsafety,
        impl_token,
        generics,
        bang,
        trait_,
        self_ty,
        where_clause,
        brace: body.span(),
        inner_attrs,
        items,
    })
}

/// An item's keyword and name (`fn run`, `struct Store`), or the whole item
/// when it has no name; `at` is where its qualifiers start.
fn head(tokens: &[TokenTree], at: usize) -> TokenStream {
    const QUALIFIERS: [&str; 7] = ["default", "const", "async", "unsafe", "safe", "auto", "extern"];
    let mut cursor = Cursor::new(&tokens[at..]);
    while QUALIFIERS.iter().any(|qualifier| cursor.is_ident(qualifier)) {
        // A qualifier only when a keyword follows: `const fn`, not `const NAME`.
        match cursor.tokens.get(cursor.pos + 1) {
            Some(TokenTree::Literal(_)) if cursor.is_ident("extern") => cursor.pos += 2,
            Some(TokenTree::Ident(next))
                if QUALIFIERS.iter().chain(&["fn", "trait"]).any(|keyword| next == keyword) =>
            {
                cursor.pos += 1
            }
            _ => break,
        }
    }
    const NAMED: [&str; 9] = ["fn", "struct", "enum", "union", "trait", "mod", "const", "static", "type"];
    let keyword = cursor.pos;
    if NAMED.iter().any(|name| cursor.is_ident(name)) {
        cursor.pos += 1;
        cursor.keyword("mut");
        if let Some(TokenTree::Ident(ident)) = cursor.peek() {
            let mut head = stream(&cursor.tokens[keyword..=keyword]);
            head.extend([TokenTree::Ident(ident.clone())]);
            return head;
        }
    }
    stream(tokens)
}

/// An impl body: its inner attributes and its items.
fn members(tokens: &[TokenTree]) -> (TokenStream, Vec<Member>) {
    let mut cursor = Cursor::new(tokens);
    while cursor.is_punct('#')
        && matches!(cursor.tokens.get(cursor.pos + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!')
    {
        cursor.pos += 3;
    }
    let inner_attrs = cursor.since(0);
    let mut items = Vec::new();
    while cursor.peek().is_some() {
        items.push(member(&mut cursor));
    }
    (inner_attrs, items)
}

/// One item of an impl body.
fn member(cursor: &mut Cursor<'_>) -> Member {
    let start = cursor.pos;
    let attr_names = cursor.attributes().into_iter().map(attr_name).collect();
    let vis = cursor.visibility();
    let default = cursor.keyword("default");
    let item_start = cursor.pos;
    let kind = if let Some(method) = method(cursor, attr_names, vis, default) {
        MemberKind::Fn(Box::new(method))
    } else {
        cursor.pos = item_start;
        other_member(cursor)
    };
    end_of_member(cursor, &kind);
    Member { tokens: cursor.since(start), kind }
}

/// Moves the cursor past the item: a method's body or `;`, a macro's
/// delimiters (and `;` after parentheses or brackets), another item's `;`.
fn end_of_member(cursor: &mut Cursor<'_>, kind: &MemberKind) {
    match kind {
        MemberKind::Fn(_) => {}
        MemberKind::Macro { .. } => {
            let braces = matches!(cursor.peek(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace);
            cursor.pos += 1;
            if braces || !cursor.is_punct(';') {
                return;
            }
        }
        MemberKind::Const { .. } | MemberKind::Type { .. } | MemberKind::Other => {
            cursor.until(|token| is_punct(token, ';'));
        }
    }
    cursor.pos = (cursor.pos + 1).min(cursor.tokens.len());
}

/// A `const`, `type` or macro item, or something else; leaves the cursor
/// after its name.
fn other_member(cursor: &mut Cursor<'_>) -> MemberKind {
    let next_ident = |cursor: &Cursor<'_>| match cursor.tokens.get(cursor.pos + 1) {
        Some(TokenTree::Ident(ident)) => Some(ident.clone()),
        _ => None,
    };
    if let Some(ident) = next_ident(cursor).filter(|_| cursor.is_ident("const")) {
        return MemberKind::Const { const_token: cursor.take(1), ident };
    }
    if let Some(ident) = next_ident(cursor).filter(|_| cursor.is_ident("type")) {
        return MemberKind::Type { type_token: cursor.take(1), ident };
    }
    let start = cursor.pos;
    let path = cursor.until(|token| !(matches!(token, TokenTree::Ident(_)) || is_punct(token, ':')));
    if !path.is_empty() && cursor.is_punct('!') {
        cursor.pos += 1;
        return MemberKind::Macro { path_and_bang: cursor.since(start) };
    }
    MemberKind::Other
}

/// A method, if the cursor is at one (after its attributes, visibility
/// and `default`); leaves the cursor before its body.
fn method(
    cursor: &mut Cursor<'_>,
    attr_names: Vec<String>,
    vis: Option<TokenStream>,
    default: Option<TokenStream>,
) -> Option<Method> {
    let constness = cursor.keyword("const");
    let asyncness = cursor.keyword("async");
    let unsafety = cursor.keyword("unsafe");
    let abi = cursor.is_ident("extern").then(|| {
        let literal = matches!(cursor.tokens.get(cursor.pos + 1), Some(TokenTree::Literal(_)));
        cursor.take(1 + usize::from(literal))
    });
    cursor.keyword("fn")?;
    let Some(TokenTree::Ident(ident)) = cursor.peek() else { return None };
    cursor.pos += 1;
    let generics = cursor.angle_brackets();
    let Some(TokenTree::Group(paren)) = cursor.peek() else { return None };
    cursor.pos += 1;
    let inputs: Vec<TokenTree> = paren.stream().into_iter().collect();
    let inputs = split_commas(&inputs).into_iter().map(param).collect();
    let output = (cursor.is_punct('-')).then(|| {
        cursor.pos += 2;
        ty(cursor.until(|token| {
            is_ident(token, "where")
                || is_punct(token, ';')
                || matches!(token, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
        }))
    });
    let where_tokens = cursor.until(|token| {
        is_punct(token, ';') || matches!(token, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
    });
    let where_clause = (!where_tokens.is_empty()).then(|| stream(where_tokens));
    Some(Method {
        attr_names,
        vis,
        default,
        constness,
        asyncness,
        unsafety,
        abi,
        ident: ident.clone(),
        generics,
        paren: paren.clone(),
        inputs,
        output,
        where_clause,
    })
}

/// One parameter of a method.
fn param(tokens: &[TokenTree]) -> Param {
    let mut cursor = Cursor::new(tokens);
    cursor.attributes();
    let rest = &tokens[cursor.pos..];
    let kind = if rest.iter().all(|token| is_punct(token, '.')) {
        ParamKind::Variadic
    } else if let Some(kind) = receiver(rest) {
        kind
    } else {
        let colon = (0..rest.len()).find(|&i| is_lone_colon(rest, i)).unwrap_or(rest.len());
        ParamKind::Typed(ty(rest.get(colon + 1..).unwrap_or_default()))
    };
    Param { tokens: stream(tokens), kind }
}

/// `&self`, `&'a mut self`, `self`, `mut self`, `self: T`.
fn receiver(tokens: &[TokenTree]) -> Option<ParamKind> {
    let mut cursor = Cursor::new(tokens);
    let reference = cursor.is_punct('&');
    if reference {
        cursor.pos += 1;
        if cursor.is_punct('\'') {
            cursor.pos += 2;
        }
    }
    let mutable = cursor.keyword("mut").is_some();
    cursor.keyword("self")?;
    if cursor.peek().is_none() {
        return Some(ParamKind::Receiver { reference, mutable, ty: None });
    }
    if reference || !cursor.is_punct(':') {
        return None;
    }
    Some(ParamKind::Receiver { reference, mutable, ty: Some(ty(&tokens[cursor.pos + 1..])) })
}

/// A path's outline: its segments and their generic arguments.
pub fn path(tokens: &[TokenTree]) -> Path {
    if let Some(inner) = invisible_group(tokens) {
        // A `$path` a `macro_rules!` macro passed on.
        let outline = path(&inner.into_iter().collect::<Vec<_>>());
        return Path { tokens: stream(tokens), ..outline };
    }
    let mut cursor = Cursor::new(tokens);
    let leading_colon = cursor.is_punct(':');
    if leading_colon {
        cursor.pos += 2;
    }
    let mut segments = Vec::new();
    while let Some(TokenTree::Ident(ident)) = cursor.peek() {
        cursor.pos += 1;
        if cursor.is_punct(':') && matches!(cursor.tokens.get(cursor.pos + 2), Some(t) if is_punct(t, '<')) {
            cursor.pos += 2; // turbofish
        }
        let arguments = if let Some(angle) = cursor.angle_brackets() {
            let inner: Vec<TokenTree> = angle.clone().into_iter().collect();
            let inner = inner.get(1..inner.len().saturating_sub(1)).unwrap_or_default();
            let args = split_commas(inner).into_iter().map(generic_arg).collect();
            Arguments::Angle(angle, args)
        } else if matches!(cursor.peek(), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis) {
            let start = cursor.pos;
            cursor.pos += 1;
            if cursor.is_punct('-') {
                cursor.pos = tokens.len();
            }
            Arguments::Parenthesized(cursor.since(start))
        } else {
            Arguments::None
        };
        segments.push(Segment { ident: ident.clone(), arguments });
        if !cursor.is_punct(':') {
            break;
        }
        cursor.pos += 2;
    }
    Path { tokens: stream(tokens), leading_colon, segments }
}

/// One generic argument.
fn generic_arg(tokens: &[TokenTree]) -> GenericArg {
    match tokens {
        [TokenTree::Punct(quote), TokenTree::Ident(name)] if quote.as_char() == '\'' => {
            GenericArg::Lifetime(Lifetime { tokens: stream(tokens), name: name.to_string() })
        }
        [TokenTree::Literal(_), ..] => GenericArg::Other,
        [TokenTree::Group(group)] if group.delimiter() == Delimiter::Brace => GenericArg::Other,
        [TokenTree::Punct(p), ..] if p.as_char() == '-' => GenericArg::Other,
        [TokenTree::Ident(_), TokenTree::Punct(p), ..] if p.as_char() == '=' || is_lone_colon(tokens, 1) => {
            GenericArg::Other
        }
        _ => GenericArg::Type(ty(tokens)),
    }
}

/// A type's outline.
pub fn ty(tokens: &[TokenTree]) -> Type {
    Type { tokens: stream(tokens), kind: type_kind(tokens) }
}

fn type_kind(tokens: &[TokenTree]) -> TypeKind {
    let Some(first) = tokens.first() else { return TypeKind::Unknown };
    match first {
        TokenTree::Punct(p) if p.as_char() == '&' => reference(tokens),
        TokenTree::Punct(p) if p.as_char() == '*' => TypeKind::Ptr(Box::new(ty(tokens.get(2..).unwrap_or_default()))),
        TokenTree::Punct(p) if p.as_char() == '!' && tokens.len() == 1 => TypeKind::NotPath,
        TokenTree::Punct(p) if p.as_char() == '<' => qualified(tokens),
        TokenTree::Group(group) if tokens.len() == 1 => delimited(group),
        TokenTree::Ident(ident) if ["fn", "unsafe", "extern", "impl", "dyn", "_", "for"].iter().any(|k| ident == k) => {
            TypeKind::NotPath
        }
        TokenTree::Ident(_) | TokenTree::Punct(_) if first_is_path(tokens) => path_type(tokens),
        _ => TypeKind::Unknown,
    }
}

fn first_is_path(tokens: &[TokenTree]) -> bool {
    matches!(tokens.first(), Some(TokenTree::Ident(_)))
        || matches!(tokens, [TokenTree::Punct(a), TokenTree::Punct(b), ..] if a.as_char() == ':' && b.as_char() == ':')
}

/// A path type, a macro, or a bound list (`A + B`).
fn path_type(tokens: &[TokenTree]) -> TypeKind {
    let mut cursor = Cursor::new(tokens);
    let end = cursor.until(|token| is_punct(token, '+') || is_punct(token, '!')).len();
    match tokens.get(end) {
        Some(token) if is_punct(token, '!') => TypeKind::Macro,
        Some(_) => TypeKind::NotPath,
        None => TypeKind::Path { qself: None, path: path(tokens) },
    }
}

/// `&'a mut T`.
fn reference(tokens: &[TokenTree]) -> TypeKind {
    let and_token = stream(&tokens[..1]);
    let mut cursor = Cursor::new(&tokens[1..]);
    // `&&T` arrives as one joint `&&`: the second `&` is the inner type's.
    let lifetime = match (cursor.peek(), cursor.tokens.get(1)) {
        (Some(TokenTree::Punct(quote)), Some(TokenTree::Ident(name))) if quote.as_char() == '\'' => {
            cursor.pos = 2;
            Some(Lifetime { tokens: stream(&cursor.tokens[..2]), name: name.to_string() })
        }
        _ => None,
    };
    let mutable = cursor.keyword("mut").is_some();
    let elem = Box::new(ty(&cursor.tokens[cursor.pos..]));
    TypeKind::Reference { and_token, lifetime, mutable, elem }
}

/// `<T as Trait>::Name`.
fn qualified(tokens: &[TokenTree]) -> TypeKind {
    let len = angle_len(tokens);
    let inner = tokens.get(1..len.saturating_sub(1)).unwrap_or_default();
    let as_at = Cursor::new(inner).until(|token| is_ident(token, "as")).len();
    let qself = Box::new(ty(&inner[..as_at]));
    let rest = tokens.get(len + 2..).unwrap_or_default();
    TypeKind::Path { qself: Some(qself), path: path(rest) }
}

/// `(...)`, `[...]` or an invisible group.
fn delimited(group: &Group) -> TypeKind {
    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
    match group.delimiter() {
        Delimiter::Parenthesis => {
            let parts = split_commas(&inner);
            let trailing_comma = inner.last().is_some_and(|token| is_punct(token, ','));
            if parts.len() == 1 && !trailing_comma {
                TypeKind::Paren(Box::new(ty(parts[0])))
            } else {
                TypeKind::Tuple(parts.into_iter().map(ty).collect())
            }
        }
        Delimiter::Bracket => {
            let elem = Cursor::new(&inner).until(|token| is_punct(token, ';')).len();
            TypeKind::Slice(Box::new(ty(&inner[..elem])))
        }
        Delimiter::None => TypeKind::Group(Box::new(ty(&inner))),
        Delimiter::Brace => TypeKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn parse(tokens: TokenStream) -> Impl {
        item(tokens).unwrap_or_else(|head| panic!("not an impl: {head}"))
    }

    fn text(tokens: &Option<TokenStream>) -> String {
        tokens.as_ref().map(ToString::to_string).unwrap_or_default()
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
        assert_eq!(item.attrs.to_string(), "# [allow (dead_code)] # [doc = \"x\"]");
        assert_eq!(text(&item.default), "default");
        assert_eq!(text(&item.unsafety), "unsafe");
        assert_eq!(text(&item.generics), "< F : Fn (u8) -> u8 , const N : usize >");
        assert_eq!(text(&item.bang), "!");
        let (path, for_token) = item.trait_.as_ref().unwrap();
        assert_eq!(path.tokens.to_string(), "crate :: MapiSync < F >");
        assert_eq!(path.segments.len(), 2);
        assert!(matches!(&path.segments[1].arguments, Arguments::Angle(_, args) if args.len() == 1));
        assert_eq!(for_token.to_string(), "for");
        assert_eq!(item.self_ty.tokens.to_string(), "Store < F , { N } >");
        assert_eq!(text(&item.where_clause), "where F : for < 'a > Fn (& 'a u8) -> u8 + Send ,");
        assert_eq!(item.inner_attrs.to_string(), "# ! [allow (unused)]");
        assert_eq!(item.items.len(), 1);
    }

    #[test]
    fn an_inherent_impl_has_no_trait() {
        let item = parse(quote!(
            impl<T> Store<T> where T: Send {}
        ));
        assert!(item.trait_.is_none());
        assert_eq!(item.self_ty.tokens.to_string(), "Store < T >");
        assert!(item.items.is_empty());
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
                o![];
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
                MemberKind::Const { .. } => "const",
                MemberKind::Type { .. } => "type",
                MemberKind::Macro { .. } => "macro",
                MemberKind::Other => "other",
            })
            .collect();
        assert_eq!(kinds, ["const", "const", "type", "macro", "macro", "macro", "macro", "fn", "fn"]);
        assert_eq!(item.items[1].tokens.to_string(), "const _ : () = () ;");
        assert_eq!(item.items[4].tokens.to_string(), "n ! { fn inside () { } }");
        let MemberKind::Macro { path_and_bang } = &item.items[6].kind else { unreachable!() };
        assert_eq!(path_and_bang.to_string(), "path :: to :: p !");
        let MemberKind::Fn(f) = &item.items[7].kind else { unreachable!() };
        assert_eq!(f.attr_names, ["cfg"]);
        assert_eq!(
            [&f.vis, &f.default, &f.constness, &f.asyncness, &f.unsafety, &f.abi].map(text),
            ["pub (crate)", "default", "const", "async", "unsafe", "extern \"C\""]
        );
        assert_eq!(text(&f.generics), "< 'a , T >");
        assert_eq!(f.inputs.len(), 3);
        assert!(matches!(f.inputs[0].kind, ParamKind::Receiver { reference: true, mutable: true, ty: None }));
        assert!(
            matches!(&f.inputs[1].kind, ParamKind::Typed(ty) if matches!(ty.kind, TypeKind::Tuple(ref e) if e.len() == 2))
        );
        assert!(matches!(f.inputs[2].kind, ParamKind::Variadic));
        assert!(matches!(f.output.as_ref().map(|ty| &ty.kind), Some(TypeKind::NotPath)));
        assert_eq!(text(&f.where_clause), "where T : Copy");
        let MemberKind::Fn(g) = &item.items[8].kind else { unreachable!() };
        assert!(g.output.is_none() && g.inputs.is_empty());
    }

    #[test]
    fn receivers_are_told_from_patterns() {
        let receiver = |tokens: TokenStream| {
            let tokens: Vec<TokenTree> = tokens.into_iter().collect();
            match param(&tokens).kind {
                ParamKind::Receiver { reference, mutable, ty } => {
                    Some((reference, mutable, ty.map(|ty| ty.tokens.to_string())))
                }
                _ => None,
            }
        };
        assert_eq!(receiver(quote!(&self)), Some((true, false, None)));
        assert_eq!(receiver(quote!(&'a mut self)), Some((true, true, None)));
        assert_eq!(receiver(quote!(mut self)), Some((false, true, None)));
        assert_eq!(receiver(quote!(#[attr] self: Box<Self>)), Some((false, false, Some("Box < Self >".into()))));
        assert_eq!(receiver(quote!(&x: &u8)), None);
        assert_eq!(receiver(quote!(selfish: u8)), None);
        assert_eq!(receiver(quote!(Wrapper(self_): Wrapper)), None);
    }

    #[test]
    fn type_outlines() {
        let kind = |tokens: TokenStream| {
            let tokens: Vec<TokenTree> = tokens.into_iter().collect();
            match ty(&tokens).kind {
                TypeKind::Path { qself: Some(_), .. } => "qualified",
                TypeKind::Path { .. } => "path",
                TypeKind::Reference { .. } => "reference",
                TypeKind::Tuple(_) => "tuple",
                TypeKind::Paren(_) => "paren",
                TypeKind::Group(_) => "group",
                TypeKind::Slice(_) => "slice",
                TypeKind::Ptr(_) => "ptr",
                TypeKind::Macro => "macro",
                TypeKind::NotPath => "not a path",
                TypeKind::Unknown => "unknown",
            }
        };
        let cases = [
            (quote!(::a::B<'static, C<D>, { 1 }, Item = E>), "path"),
            (quote!(Vec::<u8>), "path"),
            (quote!(&&'a mut T), "reference"),
            (quote!(()), "tuple"),
            (quote!((T,)), "tuple"),
            (quote!((T)), "paren"),
            (quote!([T; 4]), "slice"),
            (quote!(*const T), "ptr"),
            (quote!(<T as Trait>::Output), "qualified"),
            (quote!(m!(T)), "macro"),
            (quote!(a::m![]), "macro"),
            (quote!(!), "not a path"),
            (quote!(_), "not a path"),
            (quote!(fn(u8) -> u8), "not a path"),
            (quote!(impl Fn() -> u8), "not a path"),
            (quote!(dyn Send + Sync), "not a path"),
            (quote!(Send + 'static), "not a path"),
            (quote!(for<'a> fn(&'a u8)), "not a path"),
        ];
        for (tokens, expected) in cases {
            assert_eq!(kind(tokens.clone()), expected, "{tokens}");
        }
        let group = TokenTree::Group(Group::new(Delimiter::None, quote!(u8)));
        assert!(matches!(ty(&[group]).kind, TypeKind::Group(_)));
    }

    #[test]
    fn fragments_a_macro_rules_macro_passed_on_are_looked_into() {
        let group = |tokens: TokenStream| TokenTree::Group(Group::new(Delimiter::None, tokens));
        let trait_ = group(quote!(mapisync::MapiSync));
        let self_ty = group(quote!(Store<u8>));
        let item = parse(quote!(impl #trait_ for #self_ty {}));
        let (path, _) = item.trait_.as_ref().unwrap();
        assert_eq!(path.segments.last().unwrap().ident, "MapiSync");
        assert!(matches!(item.self_ty.kind, TypeKind::Group(_)));
        let whole = group(quote!(impl MapiSync for Store { fn f() {} }));
        assert_eq!(parse(whole.into()).items.len(), 1);
    }

    #[test]
    fn a_reference_to_a_reference_splits_the_joint_ampersands() {
        let tokens: Vec<TokenTree> = quote!(&&'a T).into_iter().collect();
        let TypeKind::Reference { lifetime: None, elem, .. } = ty(&tokens).kind else { panic!() };
        let TypeKind::Reference { lifetime: Some(lifetime), .. } = elem.kind else { panic!() };
        assert_eq!(lifetime.name, "a");
    }
}
