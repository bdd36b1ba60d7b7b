//! The syntax tree. Every name and type keeps its span, and comments are kept
//! (leading ones on items, fields and variants; trailing ones on the same line)
//! so that `brief fmt` never loses them.

use crate::Span;

/// A parsed file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    /// Items in source order.
    pub items: Vec<Item>,
    /// Comments after the last item.
    pub trailing_comments: Vec<String>,
}

/// A top-level declaration with its leading comments.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// `// ...` lines right above the item, text after the slashes.
    pub comments: Vec<String>,
    /// A comment on the item's last line.
    pub trailing_comment: Option<String>,
    /// What it declares.
    pub kind: ItemKind,
    /// The whole item.
    pub span: Span,
}

/// The kinds of top-level declarations.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// `service "name"`
    Service(Service),
    /// `rpc name (In) Out [doc]`
    Rpc(Rpc),
    /// `schema "topic" Message [doc]`
    Schema(Schema),
    /// `message Name { fields }`
    Message(Message),
    /// `enum Name { variants }`
    Enum(Enum),
}

/// A name with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The text.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A string literal (without quotes) with its span (with quotes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    /// The text between the quotes.
    pub value: String,
    /// Where, quotes included.
    pub span: Span,
}

/// Documentation in backticks (text without them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    /// The UTF-8 text between the backticks.
    pub text: String,
    /// Where, backticks included.
    pub span: Span,
}

/// `service "name"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The service name used on the wire.
    pub name: StrLit,
}

/// `rpc name (In) Out [doc]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rpc {
    /// Method name.
    pub name: Ident,
    /// Input message.
    pub input: Ident,
    /// Output message.
    pub output: Ident,
    /// Documentation.
    pub doc: Option<Doc>,
}

/// `schema "topic" Message [doc]`: an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Topic (the event type).
    pub topic: StrLit,
    /// Payload message.
    pub message: Ident,
    /// Documentation.
    pub doc: Option<Doc>,
}

/// `message Name { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Type name.
    pub name: Ident,
    /// Fields in order.
    pub fields: Vec<Field>,
    /// A comment on the line of the opening brace (`message A { // why`).
    pub open_comment: Option<String>,
    /// Comments before the closing brace.
    pub inner_comments: Vec<String>,
}

/// `name type[?] [doc]` inside a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Leading comments.
    pub comments: Vec<String>,
    /// Field name, as sent on the wire.
    pub name: Ident,
    /// Type (without the optional marker).
    pub ty: Type,
    /// `T?`: the field may be absent.
    pub optional: bool,
    /// Documentation.
    pub doc: Option<Doc>,
    /// A comment at the end of the line.
    pub trailing_comment: Option<String>,
    /// The whole field.
    pub span: Span,
}

/// `enum Name { a b c }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    /// Type name.
    pub name: Ident,
    /// Variants in order.
    pub variants: Vec<Variant>,
    /// A comment on the line of the opening brace (`enum E { // why`).
    pub open_comment: Option<String>,
    /// Comments before the closing brace.
    pub inner_comments: Vec<String>,
}

/// One enum member.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Leading comments.
    pub comments: Vec<String>,
    /// Member name, as sent on the wire.
    pub name: Ident,
    /// Documentation.
    pub doc: Option<Doc>,
    /// A comment at the end of the line.
    pub trailing_comment: Option<String>,
}

/// A type expression with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Type {
    /// What type.
    pub kind: TypeKind,
    /// Where.
    pub span: Span,
}

/// The type language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    /// `int`: i64.
    Int,
    /// `float`: f64.
    Float,
    /// `bool`.
    Bool,
    /// `string`.
    String,
    /// `bytes`: base64 in JSON.
    Bytes,
    /// `time`: RFC 3339 string.
    Time,
    /// A message or enum by name.
    Named(String),
    /// `[]T`.
    List(Box<Type>),
    /// `map[K]V` (only `string` keys are valid; the checker says so).
    Map(Box<Type>, Box<Type>),
}

impl TypeKind {
    /// The scalar for a builtin name.
    pub fn builtin(name: &str) -> Option<TypeKind> {
        Some(match name {
            "int" => TypeKind::Int,
            "float" => TypeKind::Float,
            "bool" => TypeKind::Bool,
            "string" => TypeKind::String,
            "bytes" => TypeKind::Bytes,
            "time" => TypeKind::Time,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Type {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::fmt::Display for TypeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeKind::Int => f.write_str("int"),
            TypeKind::Float => f.write_str("float"),
            TypeKind::Bool => f.write_str("bool"),
            TypeKind::String => f.write_str("string"),
            TypeKind::Bytes => f.write_str("bytes"),
            TypeKind::Time => f.write_str("time"),
            TypeKind::Named(n) => f.write_str(n),
            TypeKind::List(t) => write!(f, "[]{t}"),
            TypeKind::Map(k, v) => write!(f, "map[{k}]{v}"),
        }
    }
}

impl File {
    /// The `service` declaration, if any (the first one).
    pub fn service(&self) -> Option<&Service> {
        self.items.iter().find_map(|i| match &i.kind {
            ItemKind::Service(s) => Some(s),
            _ => None,
        })
    }

    /// All rpcs.
    pub fn rpcs(&self) -> impl Iterator<Item = &Rpc> {
        self.items.iter().filter_map(|i| match &i.kind {
            ItemKind::Rpc(r) => Some(r),
            _ => None,
        })
    }

    /// All event schemas.
    pub fn schemas(&self) -> impl Iterator<Item = &Schema> {
        self.items.iter().filter_map(|i| match &i.kind {
            ItemKind::Schema(s) => Some(s),
            _ => None,
        })
    }

    /// All messages.
    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.items.iter().filter_map(|i| match &i.kind {
            ItemKind::Message(m) => Some(m),
            _ => None,
        })
    }

    /// All enums.
    pub fn enums(&self) -> impl Iterator<Item = &Enum> {
        self.items.iter().filter_map(|i| match &i.kind {
            ItemKind::Enum(e) => Some(e),
            _ => None,
        })
    }

    /// The message called `name` (the first one if duplicated).
    pub fn message(&self, name: &str) -> Option<&Message> {
        self.messages().find(|m| m.name.name == name)
    }

    /// The enum called `name` (the first one if duplicated).
    pub fn enum_(&self, name: &str) -> Option<&Enum> {
        self.enums().find(|e| e.name.name == name)
    }
}

impl Message {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name.name == name)
    }
}
