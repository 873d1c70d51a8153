//! How deeply the tokens syn reads nest, measured without recursion.
//!
//! syn's parsers recurse once per level of a type or an expression, and
//! the proc-macro thread's stack is rustc's own: some hundreds of levels
//! (`Option<Option<...>>`, `((...,),)`, `&&&...`) overflow it, and rustc
//! dies with SIGSEGV instead of reporting anything. So before syn reads
//! them, the tokens are measured here with an explicit stack, and input
//! deeper than `LIMIT` is an error at its deepest token.

use proc_macro2::{Spacing, Span, TokenStream, TokenTree};

use super::is_one_of;

/// The deepest nesting the macro reads: no provider's signature comes
/// near it, and syn reads far more with the default stack (the measure
/// counts generously: every `&`, `*`, `-`, `!` and `->` of a run counts).
pub const LIMIT: usize = 64;

/// One level of groups: its tokens, the next to read, and what nests
/// inside it so far.
struct Level {
    trees: Vec<TokenTree>,
    /// For each token: whether it is a `<` or `>` of a pair (generics),
    /// not a comparison, a shift, `->` or `=>`.
    paired: Vec<bool>,
    next: usize,
    /// The depth of the group itself: the levels around it, plus one.
    base: usize,
    /// The prefix operators (`&`, `*`, `-`, `!`) and `->` of the run still
    /// open outside any `<`, and (`runs`) inside each `<` of a pair not
    /// closed yet at this level. A run ends at a binary operator or a `,`,
    /// `;` or `=` (`!a && !b`, `&u8, &u8`): what it applies to is read, and
    /// syn's recursion has returned.
    outer_run: usize,
    runs: Vec<usize>,
    /// Whether the last token was an operator between two operands
    /// (`a && b`, `a - b`), which nests nothing.
    binary: bool,
}

impl Level {
    fn new(tokens: TokenStream, base: usize) -> Self {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let paired = pair_angles(&trees);
        Level { trees, paired, next: 0, base, outer_run: 0, runs: Vec::new(), binary: false }
    }

    fn depth(&self) -> usize {
        let mut depth = self.base + self.outer_run;
        for run in &self.runs {
            depth += 1 + run;
        }
        depth
    }

    /// The run of prefix operators inside the innermost open `<...>`.
    fn run(&mut self) -> &mut usize {
        match self.runs.last_mut() {
            Some(run) => run,
            None => &mut self.outer_run,
        }
    }

    /// Whether the group at `index` is the tokens of a macro invocation
    /// (`name!(...)`, `path::name![...]`), which syn keeps verbatim.
    fn is_macro_input(&self, index: usize) -> bool {
        index >= 2
            && matches!(&self.trees[index - 1], TokenTree::Punct(p) if p.as_char() == '!')
            && matches!(&self.trees[index - 2], TokenTree::Ident(_))
            && is_operand(self, index - 2)
    }
}

/// Which `<` and `>` of `trees` pair up, each `>` with the nearest open
/// `<` before it. A `<` left open (`a < b`, `1 << 3`, `<=`) or a `>` that
/// closes nothing (`a > b`, `x >> 1`) nests nothing; `->` and `=>` are
/// no brackets at all.
fn pair_angles(trees: &[TokenTree]) -> Vec<bool> {
    let mut paired = Vec::with_capacity(trees.len());
    let mut open = Vec::new();
    for (i, tree) in trees.iter().enumerate() {
        paired.push(false);
        let TokenTree::Punct(punct) = tree else { continue };
        let joint_to = |j: usize, ch: char| matches!(trees.get(j), Some(TokenTree::Punct(p)) if p.as_char() == ch);
        match punct.as_char() {
            '<' if !(punct.spacing() == Spacing::Joint && joint_to(i + 1, '=')) => open.push(i),
            '>' if !(i > 0 && is_joint(&trees[i - 1], &['-', '='])) => {
                if let Some(start) = open.pop() {
                    paired[start] = true;
                    paired[i] = true;
                }
            }
            _ => {}
        }
    }
    paired
}

/// Whether `tree` (at `index`) ends an operand, so that an operator
/// after it is binary (`a & b`, `f() - 1`, `m!`), not a prefix (`&mut &u8`,
/// `-1`, `*const u8`, `&'a u8`).
fn is_operand(level: &Level, index: usize) -> bool {
    /// The keywords an operand cannot end with (`self`, `true`, ... can).
    const KEYWORDS: [&str; 33] = [
        "as", "async", "box", "break", "const", "continue", "dyn", "else", "enum", "extern", "fn", "for", "if", "impl",
        "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "trait",
        "type", "unsafe", "use", "where", "while", "yield",
    ];
    match &level.trees[index] {
        TokenTree::Literal(_) | TokenTree::Group(_) => true,
        TokenTree::Ident(ident) => {
            let lifetime = index > 0 && is_joint(&level.trees[index - 1], &['\'']);
            !lifetime && !is_one_of(ident, &KEYWORDS)
        }
        TokenTree::Punct(punct) => punct.as_char() == '>' && level.paired[index],
    }
}

fn is_joint(tree: &TokenTree, chars: &[char]) -> bool {
    let TokenTree::Punct(punct) = tree else { return false };
    if punct.spacing() != Spacing::Joint {
        return false;
    }
    for ch in chars {
        if punct.as_char() == *ch {
            return true;
        }
    }
    false
}

/// `Err` at the first token of `tokens` that nests deeper than `LIMIT`
/// levels: groups, `<...>` pairs and runs of prefix operators, each a level.
pub fn check(tokens: &TokenStream) -> syn::Result<()> {
    let mut levels = Vec::new();
    levels.push(Level::new(tokens.clone(), 0));
    while let Some(level) = levels.last_mut() {
        let i = level.next;
        let Some(tree) = level.trees.get(i).cloned() else {
            levels.pop();
            continue;
        };
        level.next += 1;
        let span = match &tree {
            TokenTree::Group(group) if level.is_macro_input(i) => group.span_open(),
            TokenTree::Group(group) => {
                let inner = Level::new(group.stream(), level.depth() + 1);
                levels.push(inner);
                group.span_open()
            }
            TokenTree::Punct(punct) => {
                let previous = level.trees[..i].last();
                let arrow = matches!(previous, Some(previous) if is_joint(previous, &['-']));
                let arrow_ahead = is_joint(&tree, &['-'])
                    && matches!(level.trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '>');
                let after_binary =
                    level.binary && matches!(previous, Some(previous) if is_joint(previous, &['&', '|', '-']));
                level.binary = false;
                match punct.as_char() {
                    '<' if level.paired[i] => level.runs.push(0),
                    // Its `<` pushed a run at this level (pairs never span levels).
                    '>' if level.paired[i] && !level.runs.is_empty() => {
                        level.runs.pop();
                    }
                    '>' if arrow => *level.run() += 1,
                    '-' if arrow_ahead => {}
                    // `!` of `name!`: the group after it is not measured.
                    '!' if i > 0 && is_operand(level, i - 1) => {}
                    '&' | '*' | '-' | '+' | '/' | '%' | '^' | '|' | '<' | '>'
                        if after_binary || (i > 0 && is_operand(level, i - 1)) =>
                    {
                        level.binary = true;
                        *level.run() = 0;
                    }
                    '&' | '*' | '!' | '-' => *level.run() += 1,
                    ',' | ';' | '=' => *level.run() = 0,
                    _ => {}
                }
                punct.span()
            }
            other => other.span(),
        };
        if matches!(levels.last(), Some(level) if level.depth() > LIMIT) {
            return Err(too_deep(span));
        }
    }
    Ok(())
}

fn too_deep(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        format_args!(
            "nested deeper than the {LIMIT} levels `#[mapisync::provider]` reads outside method bodies \
             (each `<...>`, `(...)`, `[...]`, `&`, `*` or `->` is a level); name the inner part with a type alias"
        ),
    )
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::*;
    use crate::parse::{MemberKind, item};

    /// `open` `levels` times, then `inner`, then `close` as often.
    fn nested(open: &str, inner: &str, close: &str, levels: usize) -> TokenStream {
        format!("{}{inner}{}", open.repeat(levels), close.repeat(levels)).parse().unwrap()
    }

    fn provider_with(member: TokenStream) -> TokenStream {
        quote! {
            impl mapisync::MapiSync for Store {
                fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
                #member
            }
        }
    }

    /// Each shape, far deeper than the limit (deep enough to overflow
    /// rustc's stack through syn), is one error and no crash: the member
    /// is unreadable, the rest of the impl is read, the glue is emitted.
    #[test]
    fn a_too_deep_member_is_one_error() {
        let shapes = [
            nested("Option<", "u8", ">", 400),
            nested("(", "u8", ",)", 400),
            nested("[", "u8", "; 1]", 400),
            nested("&", "u8", "", 400),
            nested("*const ", "u8", "", 400),
            nested("fn() -> ", "u8", "", 400),
            nested("&'a mut &'a [Option<", "u8", ">]", 100),
            nested("&&&&&&&&&&Vec<", "u8", ">", 40),
        ];
        for ty in shapes {
            let input = provider_with(quote!(fn helper(&self, _: #ty) {}));
            let in_where = provider_with(quote!(fn helper(&self) where #ty: Sized {}));
            assert!(check(&in_where).is_err(), "after `where`: {ty}");
            let parsed = item(input.clone()).expect("the header is read");
            let MemberKind::Unreadable(error) = &parsed.items[1].kind else { panic!("read: {ty}") };
            assert!(error.to_string().starts_with("nested deeper than the 64 levels"), "{error}");
            let expanded = crate::expand::provider(TokenStream::new(), input).to_string();
            assert_eq!(expanded.matches("compile_error").count(), 1, "{expanded}");
            assert!(expanded.contains("Provider for Store"), "{expanded}");
        }
    }

    #[test]
    fn a_too_deep_header_is_an_error() {
        let ty = nested("Option<", "u8", ">", 400);
        let error = item(quote!(impl mapisync::MapiSync for Store<#ty> {})).err().unwrap();
        assert!(error.to_string().starts_with("nested deeper"), "{error}");
        let error = item(quote!(fn f() -> #ty {})).err().unwrap();
        assert!(error.to_string().starts_with("nested deeper"), "{error}");
        assert!(super::super::args(quote!(crate = a::#ty)).is_err());
    }

    /// Input at the limit is read, every shape, with the stack rustc runs
    /// a proc macro on (its main thread's 8 MiB; a test thread has 2).
    #[test]
    fn input_at_the_limit_is_read_with_rustc_s_stack() {
        let read = || {
            // The impl body and the parameter list are two of the levels.
            let levels = LIMIT - 2;
            for ty in [
                nested("Option<", "u8", ">", levels),
                nested("(", "u8", ",)", levels),
                nested("[", "u8", "; 1]", levels),
                nested("&", "u8", "", levels),
                nested("fn() -> ", "u8", "", levels),
            ] {
                let input = provider_with(quote!(fn helper(&self, _: #ty) {}));
                let parsed = item(input.clone()).unwrap();
                assert!(matches!(parsed.items[1].kind, MemberKind::Fn(_)), "{ty}");
                let expanded = crate::expand::provider(TokenStream::new(), input).to_string();
                assert_eq!(expanded.matches("compile_error").count(), 1, "only the helper's error: {expanded}");
            }
        };
        let thread = std::thread::Builder::new().stack_size(8 << 20).spawn(read).unwrap();
        thread.join().expect("read within 8 MiB of stack");
    }

    /// Bodies are not measured (syn never reads them): 400 levels there are fine.
    #[test]
    fn a_deep_method_body_is_fine() {
        let ty = nested("Option<", "u8", ">", 400);
        let expr = nested("(", "1", ")", 400);
        let input = quote! {
            impl mapisync::MapiSync for Store {
                fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
                    let _deep: #ty = None; let _x = #expr; Ok(())
                }
            }
        };
        let expanded = crate::expand::provider(TokenStream::new(), input).to_string();
        assert!(!expanded.contains("compile_error"), "{expanded}");
    }

    /// What only looks like nesting is none: `->`, `=>`, shifts,
    /// comparisons, a long list of bounds.
    #[test]
    fn arrows_shifts_and_comparisons_do_not_nest() {
        let many = |piece: &str| -> TokenStream { piece.repeat(100).parse().unwrap() };
        let shifts = many("1 << ");
        let comparisons = many("1 < 2 && ");
        let closing = many("x >> ");
        let bounds = many("F: Fn(u8) -> u8, ");
        let arrows = many("fn(u8) -> u8, ");
        let ok = [
            quote!(const A: u32 = #shifts 1;),
            quote!(const B: bool = #comparisons true;),
            quote!(const C: u32 = #closing 1;),
            quote!(fn f<F>(&self) where #bounds {}),
            quote!(fn g(&self, _: (#arrows)) {}),
            quote!(m! { #shifts }),
        ];
        for member in ok {
            let tokens = provider_with(member.clone());
            check(&tokens).unwrap_or_else(|error| panic!("{error}: {member}"));
        }
    }

    /// A run of prefix operators ends at a binary operator, a `,`, `;` or
    /// `=` (syn reads `!a && !b` in a loop, one level per `!` of a term):
    /// long chains of short runs are read at any length, as rustc does.
    #[test]
    fn runs_of_prefix_operators_end_at_binary_operators() {
        let joined = |term: &str, operator: &str| -> TokenStream {
            let terms: Vec<String> = (0..70).map(|i| format!("{term}{i}")).collect();
            terms.join(operator).parse().unwrap()
        };
        let negations = joined("!F", " && ");
        let minus = joined("-X", " + ");
        let derefs = joined("*R", " | ");
        let references = joined("&'a T", ", ");
        for member in [
            quote!(const ALL_OFF: bool = #negations;),
            quote!(const SUM: i32 = #minus;),
            quote!(const OR: u8 = #derefs;),
            quote!(fn helper(&self, _: Many<#references>) {}),
        ] {
            check(&provider_with(member.clone())).unwrap_or_else(|error| panic!("{error}\n  {member}"));
        }
    }

    /// syn keeps a macro invocation's tokens verbatim, never reading them:
    /// a DSL's `->` there are no levels (rustc reports the misplaced macro).
    #[test]
    fn macro_input_is_not_measured() {
        let arrows: TokenStream =
            (0..70).map(|i| format!("S{i} -> S{}", i + 1)).collect::<Vec<_>>().join(" ").parse().unwrap();
        let deep = nested("(", "1", ")", 400);
        for member in [
            quote!(transitions!(#arrows);),
            quote!(
                fn helper(&self) -> shape![#deep] {}
            ),
        ] {
            check(&provider_with(member.clone())).unwrap_or_else(|error| panic!("{error}\n  {member}"));
        }
        let outside = provider_with(quote!(const N: u8 = !#deep;));
        assert!(check(&outside).is_err(), "a group after a prefix `!` is measured");
    }
}
