//! # atf-macros
//!
//! `#[derive(Params)]`: a strategy declares its parameters as a plain struct
//! and gets `StrategyParams` (the declared `ParamSpace` and the conversion
//! from checked `Params` values) written for it.
//!
//! ```text
//! use atf::params::Params;
//!
//! #[derive(Debug, Clone, Params)]
//! pub struct RsiDipParams {
//!     /// RSI period in main bars
//!     #[param(default = 14, min = 1, max = 10_000)]
//!     pub period: usize,
//!     /// Enter long below this RSI
//!     #[param(default = 30.0, min = 0.0, max = 100.0, step = 1.0)]
//!     pub oversold: f64,
//!     /// Only long positions
//!     #[param(default = true)]
//!     pub long_only: bool,
//!     /// Price the indicator reads
//!     #[param(default = "close", options("close", "hl2"))]
//!     pub source: &'static str,
//! }
//! ```
//!
//! The crate is used through a re-export (`atf::params::Params`, or
//! `atf_engine::params::Params` inside the workspace); its compile-fail
//! examples live in the engine's `params` module docs, where the macro can
//! be named.
//!
//! ## Fields
//!
//! Every field needs a `#[param(...)]` attribute; the field's type decides
//! the parameter's kind:
//!
//! | field type | kind | keys |
//! |---|---|---|
//! | `i8`..`i64`, `u8`..`u64`, `isize`, `usize` | int | `default`, `min`, `max` required; `step` (default 1) |
//! | `f32`, `f64` | float | `default`, `min`, `max`, `step` all required |
//! | `bool` | bool | `default` |
//! | `&'static str` | choice | `default`, `options("a", "b", ...)` containing the default |
//!
//! All kinds also take `name = "..."` (default: the field's identifier,
//! `r#` stripped) and `description = "..."` (default: the field's doc
//! comment, its lines trimmed and joined with a space; empty without one).
//! Numbers may be negative (`min = -5`) and use underscores (`10_000`);
//! float keys also accept integer literals (`min = 0`).
//!
//! A float's `step` is required: it is the grid step the optimizer walks,
//! and no single default suits both `0.1..=1.0` and `0.0..=100.0`. An
//! integer's step defaults to 1, the only natural one.
//!
//! ## The crate path
//!
//! The generated code names `<krate>::params::{StrategyParams, ParamSpace,
//! ParamSpec, Params, ParamError}`, with `krate` defaulting to `::atf` (the
//! facade user crates depend on). Elsewhere, set it once on the struct, as a
//! path:
//!
//! ```text
//! #[derive(Params)]
//! #[params(crate = atf_engine)] // a crate depending on atf-engine directly
//! struct A { /* ... */ }
//!
//! #[derive(Params)]
//! #[params(crate = crate)]      // the built-ins, inside atf-engine
//! struct B { /* ... */ }
//! ```
//!
//! (The string form `crate = "atf_engine"`, as in serde, is accepted too.)
//!
//! ## Why it is built this way
//!
//! - Everything checkable from the attribute is checked when the macro runs
//!   (missing keys, `min > max`, a default out of range, a default that is
//!   not an option, an unknown key, an unsupported type, duplicate names),
//!   so a mistake is a compile error on the offending field, never a
//!   runtime surprise in a backtest.
//! - Bounds are declared once, in the `ParamSpace`: input is checked there
//!   (`ParamSpace::resolve`), and `from_params` only reads values that
//!   already passed, so the generated reader has no checks of its own
//!   beyond the integer conversion (`TryFrom<i64>`), which cannot fail once
//!   the bounds fit the field type.
//! - That the bounds fit the field type is checked by the macro and again
//!   by a `const` assertion in the generated code: the assertion is what
//!   holds for `usize`/`isize` on targets narrower than 64 bits.
//! - The generated code names only `<krate>::params::*`, `core` and `std`,
//!   so a user crate needs no dependency beyond the facade.
//! - Every field needs `#[param]`: a parameter set is a public interface
//!   (CLI, API, saved runs), and nothing should join it implicitly.

use proc_macro::TokenStream;
use proc_macro2::{Literal, Punct, Spacing, Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, Attribute, Data, DeriveInput, Error, Expr, Field, Fields, Ident, Lit,
    LitStr, Path, Result, Token, Type,
};

/// Implements `StrategyParams` for a struct with named fields, each
/// annotated `#[param(...)]`; see the [crate docs](crate) for the syntax.
///
/// The struct may carry `#[params(crate = path)]` to name the crate that
/// exports `params::{StrategyParams, ParamSpace, ParamSpec, Params,
/// ParamError}` (default `::atf`).
#[proc_macro_derive(Params, attributes(param, params))]
pub fn derive_params(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(Error::into_compile_error)
        .into()
}

/// The generated impl (and const assertions), or the first error found.
fn expand(input: &DeriveInput) -> Result<TokenStream2> {
    let krate = crate_path(input)?;
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            Fields::Unnamed(_) | Fields::Unit => {
                return Err(Error::new_spanned(
                    &input.ident,
                    "#[derive(Params)] needs a struct with named fields, one per parameter",
                ))
            }
        },
        Data::Enum(e) => {
            return Err(Error::new(
                e.enum_token.span,
                "#[derive(Params)] works on structs with named fields, not enums \
                 (for a one-of-names parameter, use a `&'static str` field with `options(...)`)",
            ))
        }
        Data::Union(u) => {
            return Err(Error::new(
                u.union_token.span,
                "#[derive(Params)] works on structs with named fields, not unions",
            ))
        }
    };
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        return Err(Error::new_spanned(
            &input.generics,
            "#[derive(Params)] does not support generic structs",
        ));
    }

    let mut params: Vec<Param> = Vec::with_capacity(fields.len());
    for field in fields {
        let p = Param::from_field(field)?;
        if params.iter().any(|q| q.name == p.name) {
            return Err(Error::new(
                p.name_span,
                format!("duplicate parameter name \"{}\"", p.name),
            ));
        }
        params.push(p);
    }

    let ident = &input.ident;
    let specs = params.iter().map(|p| p.spec(&krate));
    let inits = params.iter().map(|p| p.init(&krate));
    let asserts = params.iter().filter_map(Param::fits_assertion);
    Ok(quote! {
        #(#asserts)*

        impl #krate::params::StrategyParams for #ident {
            fn space() -> #krate::params::ParamSpace {
                #krate::params::ParamSpace(::std::vec![#(#specs),*])
            }

            fn from_params(
                params: &#krate::params::Params,
            ) -> ::core::result::Result<Self, #krate::params::ParamError> {
                ::core::result::Result::Ok(Self { #(#inits),* })
            }
        }
    })
}

/// The `#[params(crate = ...)]` path, `::atf` by default.
fn crate_path(input: &DeriveInput) -> Result<Path> {
    let mut krate: Option<Path> = None;
    for attr in &input.attrs {
        if attr.path().is_ident("param") {
            return Err(Error::new_spanned(
                attr,
                "#[param(...)] belongs on fields; the struct takes #[params(crate = ...)]",
            ));
        }
        if !attr.path().is_ident("params") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                if krate.is_some() {
                    return Err(meta.error("duplicate `crate`"));
                }
                let value = meta.value()?;
                krate = Some(if value.peek(LitStr) {
                    value.parse::<LitStr>()?.parse_with(Path::parse_mod_style)?
                } else {
                    value.call(Path::parse_mod_style)?
                });
                Ok(())
            } else {
                Err(meta.error("unknown #[params] key; the only one is `crate = path`"))
            }
        })?;
    }
    Ok(krate.unwrap_or_else(|| syn::parse_quote!(::atf)))
}

/// The Rust types a parameter can be read into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    /// An integer type and its bounds as known to the macro (`usize` and
    /// `isize` as if 64 bits; the `const` assertion covers the rest).
    Int(i128, i128),
    Float {
        single: bool,
    },
    Bool,
    Choice,
}

impl FieldKind {
    fn of(ty: &Type) -> Option<Self> {
        match ty {
            Type::Path(p) if p.qself.is_none() => {
                let ident = p.path.get_ident()?;
                let kind = match ident.to_string().as_str() {
                    "i8" => Self::Int(i8::MIN.into(), i8::MAX.into()),
                    "i16" => Self::Int(i16::MIN.into(), i16::MAX.into()),
                    "i32" => Self::Int(i32::MIN.into(), i32::MAX.into()),
                    "i64" | "isize" => Self::Int(i64::MIN.into(), i64::MAX.into()),
                    "u8" => Self::Int(0, u8::MAX.into()),
                    "u16" => Self::Int(0, u16::MAX.into()),
                    "u32" => Self::Int(0, u32::MAX.into()),
                    "u64" | "usize" => Self::Int(0, u64::MAX.into()),
                    "f32" => Self::Float { single: true },
                    "f64" => Self::Float { single: false },
                    "bool" => Self::Bool,
                    _ => return None,
                };
                Some(kind)
            }
            Type::Reference(r) => {
                let is_static = r.lifetime.as_ref().is_some_and(|l| l.ident == "static");
                let is_str = matches!(&*r.elem, Type::Path(p)
                    if p.qself.is_none() && p.path.is_ident("str"));
                (is_static && is_str && r.mutability.is_none()).then_some(Self::Choice)
            }
            Type::Group(g) => Self::of(&g.elem),
            Type::Paren(p) => Self::of(&p.elem),
            _ => None,
        }
    }
}

/// A literal from the attribute: its value and its tokens (for error spans).
struct Value {
    lit: ValueLit,
    tokens: TokenStream2,
}

enum ValueLit {
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl Value {
    /// `-`? followed by a literal.
    fn parse(input: ParseStream) -> Result<Self> {
        let minus: Option<Token![-]> = input.parse()?;
        let lit: Lit = input.parse()?;
        let tokens = quote!(#minus #lit);
        let negative = minus.is_some();
        let value = match &lit {
            Lit::Int(i) => {
                let v = i.base10_parse::<i128>()?;
                ValueLit::Int(if negative { -v } else { v })
            }
            Lit::Float(f) => {
                let v = f.base10_parse::<f64>()?;
                ValueLit::Float(if negative { -v } else { v })
            }
            Lit::Bool(b) if minus.is_none() => ValueLit::Bool(b.value),
            Lit::Str(s) if minus.is_none() => ValueLit::Str(s.value()),
            _ => {
                return Err(Error::new_spanned(
                    tokens,
                    "expected a number, bool or string",
                ))
            }
        };
        Ok(Self { lit: value, tokens })
    }

    fn error(&self, msg: impl std::fmt::Display) -> Error {
        Error::new_spanned(&self.tokens, msg)
    }

    /// The value as an integer of `ty` (bounds `lo..=hi`).
    fn int(&self, key: &str, ty: &Type, lo: i128, hi: i128) -> Result<i64> {
        let ValueLit::Int(v) = self.lit else {
            return Err(self.error(format!(
                "`{key}` of an integer parameter must be an integer literal"
            )));
        };
        let ty = ty.to_token_stream();
        if v < lo || v > hi {
            return Err(self.error(format!("`{key} = {v}` does not fit the field type `{ty}`")));
        }
        i64::try_from(v).map_err(|_| {
            self.error(format!(
                "`{key} = {v}` does not fit an i64, the type parameters are checked in"
            ))
        })
    }

    /// The value as a float (`f32` if `single`).
    fn float(&self, key: &str, single: bool) -> Result<f64> {
        let v = match self.lit {
            ValueLit::Float(v) => v,
            ValueLit::Int(v) => v as f64,
            _ => {
                return Err(self.error(format!(
                    "`{key}` of a float parameter must be a number literal"
                )))
            }
        };
        let limit = if single {
            f64::from(f32::MAX)
        } else {
            f64::MAX
        };
        if !v.is_finite() || v.abs() > limit {
            let ty = if single { "f32" } else { "f64" };
            return Err(self.error(format!("`{key} = {v}` is not a finite {ty}")));
        }
        Ok(v)
    }
}

/// The raw keys of one `#[param(...)]`.
#[derive(Default)]
struct Keys {
    default: Option<Value>,
    min: Option<Value>,
    max: Option<Value>,
    step: Option<Value>,
    options: Option<(Vec<LitStr>, Span)>,
    name: Option<LitStr>,
    description: Option<LitStr>,
}

impl Keys {
    fn parse(attr: &Attribute) -> Result<Self> {
        let mut keys = Self::default();
        attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            let duplicate = || meta.error(format!("duplicate `{key}`"));
            let slot = match key.as_str() {
                "default" => &mut keys.default,
                "min" => &mut keys.min,
                "max" => &mut keys.max,
                "step" => &mut keys.step,
                "name" | "description" => {
                    let slot = if key == "name" {
                        &mut keys.name
                    } else {
                        &mut keys.description
                    };
                    if slot.is_some() {
                        return Err(duplicate());
                    }
                    *slot = Some(meta.value()?.parse()?);
                    return Ok(());
                }
                "options" => {
                    if keys.options.is_some() {
                        return Err(duplicate());
                    }
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                    keys.options = Some((list.into_iter().collect(), meta.path.span()));
                    return Ok(());
                }
                _ => {
                    return Err(meta.error(
                        "unknown #[param] key; expected one of: default, min, max, step, \
                         options(...), name, description",
                    ))
                }
            };
            if slot.is_some() {
                return Err(duplicate());
            }
            *slot = Some(meta.value()?.call(Value::parse)?);
            Ok(())
        })?;
        Ok(keys)
    }

    /// Refuses `key` for a kind it does not apply to.
    fn refuse(value: Option<&Value>, key: &str, kind: &str) -> Result<()> {
        match value {
            Some(v) => Err(v.error(format!("`{key}` does not apply to a {kind} parameter"))),
            None => Ok(()),
        }
    }
}

/// One parameter, checked.
struct Param<'a> {
    ident: &'a Ident,
    ty: &'a Type,
    name: String,
    name_span: Span,
    description: String,
    attr_span: TokenStream2,
    spec: Spec,
}

enum Spec {
    Int {
        default: i64,
        min: i64,
        max: i64,
        step: i64,
    },
    Float {
        single: bool,
        default: f64,
        min: f64,
        max: f64,
        step: f64,
    },
    Bool {
        default: bool,
    },
    Choice {
        default: String,
        options: Vec<String>,
    },
}

impl<'a> Param<'a> {
    fn from_field(field: &'a Field) -> Result<Self> {
        let ident = field.ident.as_ref().expect("named field");
        let mut attrs = field.attrs.iter().filter(|a| a.path().is_ident("param"));
        let Some(attr) = attrs.next() else {
            return Err(Error::new_spanned(
                ident,
                format!(
                    "field `{ident}` needs #[param(...)] (every field of a #[derive(Params)] \
                     struct is a parameter)"
                ),
            ));
        };
        if let Some(second) = attrs.next() {
            return Err(Error::new_spanned(
                second,
                "one #[param(...)] per field: put all keys in it",
            ));
        }
        if let Some(a) = field.attrs.iter().find(|a| a.path().is_ident("params")) {
            return Err(Error::new_spanned(
                a,
                "#[params(...)] belongs on the struct; fields take #[param(...)]",
            ));
        }
        let keys = Keys::parse(attr)?;
        let attr_span = attr.to_token_stream();
        let missing = |key: &str| Error::new_spanned(attr, format!("missing `{key} = ...`"));

        let Some(kind) = FieldKind::of(&field.ty) else {
            return Err(Error::new_spanned(
                &field.ty,
                "unsupported parameter type: expected an integer type (i8..i64, u8..u64, \
                 isize, usize), f32, f64, bool, or &'static str (with options(...))",
            ));
        };
        let default = keys.default.as_ref().ok_or_else(|| missing("default"))?;
        if !matches!(kind, FieldKind::Choice) {
            if let Some((_, span)) = &keys.options {
                return Err(Error::new(
                    *span,
                    "`options(...)` applies only to a `&'static str` (choice) parameter",
                ));
            }
        }
        let spec = match kind {
            FieldKind::Int(lo, hi) => {
                let ty = &field.ty;
                let min = keys.min.as_ref().ok_or_else(|| missing("min"))?;
                let max = keys.max.as_ref().ok_or_else(|| missing("max"))?;
                let (d, lo_v, hi_v) = (
                    default.int("default", ty, lo, hi)?,
                    min.int("min", ty, lo, hi)?,
                    max.int("max", ty, lo, hi)?,
                );
                check_order(min, max, lo_v > hi_v, lo_v, hi_v)?;
                if d < lo_v || d > hi_v {
                    return Err(default.error(format!(
                        "default {d} is outside `min..=max` ({lo_v}..={hi_v})"
                    )));
                }
                let step = match &keys.step {
                    Some(s) => {
                        let v = s.int("step", ty, i64::MIN.into(), i64::MAX.into())?;
                        // `ParamSpec::with_step` carries the step as an f64.
                        if v <= 0 || v > 1 << 53 {
                            return Err(s.error("`step` must be a positive integer below 2^53"));
                        }
                        v
                    }
                    None => 1,
                };
                Spec::Int {
                    default: d,
                    min: lo_v,
                    max: hi_v,
                    step,
                }
            }
            FieldKind::Float { single } => {
                let min = keys.min.as_ref().ok_or_else(|| missing("min"))?;
                let max = keys.max.as_ref().ok_or_else(|| missing("max"))?;
                let step = keys.step.as_ref().ok_or_else(|| {
                    Error::new_spanned(
                        attr,
                        "missing `step = ...`: a float parameter needs its grid step \
                         (no default suits every range)",
                    )
                })?;
                let (d, lo_v, hi_v, st) = (
                    default.float("default", single)?,
                    min.float("min", single)?,
                    max.float("max", single)?,
                    step.float("step", single)?,
                );
                check_order(min, max, lo_v > hi_v, lo_v, hi_v)?;
                if d < lo_v || d > hi_v {
                    return Err(default.error(format!(
                        "default {d} is outside `min..=max` ({lo_v}..={hi_v})"
                    )));
                }
                if st <= 0.0 {
                    return Err(step.error("`step` must be positive"));
                }
                Spec::Float {
                    single,
                    default: d,
                    min: lo_v,
                    max: hi_v,
                    step: st,
                }
            }
            FieldKind::Bool => {
                for (v, key) in [(&keys.min, "min"), (&keys.max, "max"), (&keys.step, "step")] {
                    Keys::refuse(v.as_ref(), key, "bool")?;
                }
                let ValueLit::Bool(d) = default.lit else {
                    return Err(default.error("the default of a bool parameter is true or false"));
                };
                Spec::Bool { default: d }
            }
            FieldKind::Choice => {
                for (v, key) in [(&keys.min, "min"), (&keys.max, "max"), (&keys.step, "step")] {
                    Keys::refuse(v.as_ref(), key, "choice")?;
                }
                let ValueLit::Str(d) = &default.lit else {
                    return Err(default.error("the default of a choice parameter is a string"));
                };
                let Some((options, span)) = &keys.options else {
                    return Err(missing("options(\"...\", ...)"));
                };
                if options.is_empty() {
                    return Err(Error::new(
                        *span,
                        "`options(...)` must list at least one option",
                    ));
                }
                let mut seen: Vec<String> = Vec::with_capacity(options.len());
                for o in options {
                    let v = o.value();
                    if v.trim().is_empty() || v.trim() != v {
                        return Err(Error::new_spanned(
                            o,
                            "an option must be non-empty, without surrounding spaces",
                        ));
                    }
                    // Input is matched ignoring ASCII case, so options must differ beyond it.
                    if seen.iter().any(|s| s.eq_ignore_ascii_case(&v)) {
                        return Err(Error::new_spanned(
                            o,
                            format!("duplicate option \"{v}\" (options match ignoring case)"),
                        ));
                    }
                    seen.push(v);
                }
                if !seen.contains(d) {
                    return Err(default.error(format!(
                        "default \"{d}\" is not among the options ({})",
                        seen.join(", ")
                    )));
                }
                Spec::Choice {
                    default: d.clone(),
                    options: seen,
                }
            }
        };

        let (name, name_span) = match &keys.name {
            Some(n) if n.value().trim().is_empty() || n.value().contains('=') => {
                return Err(Error::new_spanned(
                    n,
                    "a name must be non-empty, without `=`",
                ))
            }
            Some(n) => (n.value(), n.span()),
            None => (ident.unraw().to_string(), ident.span()),
        };
        let description = match &keys.description {
            Some(d) => d.value().trim().to_owned(),
            None => doc_comment(&field.attrs),
        };
        Ok(Self {
            ident,
            ty: &field.ty,
            name,
            name_span,
            description,
            attr_span,
            spec,
        })
    }

    /// The `ParamSpec` expression.
    fn spec(&self, krate: &Path) -> TokenStream2 {
        let (name, description) = (&self.name, &self.description);
        let spec = quote!(#krate::params::ParamSpec);
        match &self.spec {
            Spec::Int {
                default,
                min,
                max,
                step,
            } => {
                let (d, lo, hi) = (int_lit(*default), int_lit(*min), int_lit(*max));
                let with_step = (*step != 1).then(|| {
                    let s = Literal::f64_unsuffixed(*step as f64);
                    quote!(.with_step(#s))
                });
                quote!(#spec::int(#name, #description, #d, #lo, #hi) #with_step)
            }
            Spec::Float {
                default,
                min,
                max,
                step,
                ..
            } => {
                let (d, lo, hi, st) = (
                    float_lit(*default),
                    float_lit(*min),
                    float_lit(*max),
                    float_lit(*step),
                );
                quote!(#spec::float(#name, #description, #d, #lo, #hi, #st))
            }
            Spec::Bool { default } => quote!(#spec::bool(#name, #description, #default)),
            Spec::Choice { default, options } => {
                quote!(#spec::choice(#name, #description, #default, &[#(#options),*]))
            }
        }
    }

    /// The field initializer of `from_params`.
    fn init(&self, krate: &Path) -> TokenStream2 {
        let (ident, name, ty) = (&self.ident, &self.name, &self.ty);
        let value = match &self.spec {
            Spec::Int { .. } if matches!(self.ty, Type::Path(p) if p.path.is_ident("i64")) => {
                quote!(params.int(#name))
            }
            Spec::Int { .. } => {
                let ty_name = ty.to_token_stream().to_string();
                quote! {{
                    let value = params.int(#name);
                    <#ty as ::core::convert::TryFrom<::core::primitive::i64>>::try_from(value).map_err(|_| {
                        #krate::params::ParamError::Inconsistent(::std::format!(
                            "parameter '{}': {} does not fit {}", #name, value, #ty_name
                        ))
                    })?
                }}
            }
            Spec::Float { single: true, .. } => {
                quote!(params.float(#name) as ::core::primitive::f32)
            }
            Spec::Float { single: false, .. } => quote!(params.float(#name)),
            Spec::Bool { .. } => quote!(params.bool(#name)),
            Spec::Choice { .. } => quote!(params.choice(#name)),
        };
        quote!(#ident: #value)
    }

    /// For an integer field, a `const` assertion that its bounds fit the
    /// field type on the target being compiled (what the macro cannot know
    /// for `usize`/`isize`).
    fn fits_assertion(&self) -> Option<TokenStream2> {
        let Spec::Int { min, max, .. } = self.spec else {
            return None;
        };
        let ty = self.ty;
        let (lo, hi) = (i128_lit(min), i128_lit(max));
        let msg = format!(
            "#[param] `{}`: min..=max ({min}..={max}) does not fit the field type on this target",
            self.name
        );
        let span = self.attr_span.span();
        Some(quote_spanned! {span=>
            const _: () = ::core::assert!(
                #lo >= <#ty>::MIN as ::core::primitive::i128
                    && #hi <= <#ty>::MAX as ::core::primitive::i128,
                #msg
            );
        })
    }
}

/// `min > max` as an error spanned over both.
fn check_order(
    min: &Value,
    max: &Value,
    reversed: bool,
    lo: impl std::fmt::Display,
    hi: impl std::fmt::Display,
) -> Result<()> {
    if reversed {
        let mut both = min.tokens.clone();
        both.extend(max.tokens.clone());
        return Err(Error::new_spanned(
            both,
            format!("`min` ({lo}) is greater than `max` ({hi})"),
        ));
    }
    Ok(())
}

/// The doc comment's lines, each trimmed, the empty ones dropped, joined
/// with a space.
fn doc_comment(attrs: &[Attribute]) -> String {
    let lines = attrs.iter().filter_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    });
    let mut out = String::new();
    for line in lines.flat_map(|l| l.lines().map(|s| s.trim().to_owned()).collect::<Vec<_>>()) {
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&line);
    }
    out
}

/// `-` followed by an unsigned literal: negative literals as tokens the
/// parser reads as a negation, `i64::MIN` included.
fn negated(negative: bool, lit: Literal) -> TokenStream2 {
    let mut t = TokenStream2::new();
    if negative {
        t.extend([proc_macro2::TokenTree::Punct(Punct::new(
            '-',
            Spacing::Alone,
        ))]);
    }
    t.extend([proc_macro2::TokenTree::Literal(lit)]);
    t
}

fn int_lit(v: i64) -> TokenStream2 {
    negated(v < 0, Literal::u64_unsuffixed(v.unsigned_abs()))
}

/// An `i128` literal of a value from an `i64` (its magnitude fits).
fn i128_lit(v: i64) -> TokenStream2 {
    negated(v < 0, Literal::i128_suffixed(i128::from(v.unsigned_abs())))
}

fn float_lit(v: f64) -> TokenStream2 {
    negated(v < 0.0, Literal::f64_unsuffixed(v.abs()))
}
