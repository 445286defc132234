//! The parser: tokens -> tree, following Go's grammar, checks and messages (function names
//! known at parse time, variables declared before use, `{{break}}` only inside `range`).

use std::collections::HashMap;

use crate::ast::{Action, Arg, Branch, Command, Node, Number, Pipe, TemplateCall, Variable};
use crate::error::TemplateError;
use crate::funcs;
use crate::gofmt::quote;
use crate::lex::{Kind, Token, lex};

type Result<T> = std::result::Result<T, TemplateError>;

/// A parsed template and the templates it defines with `{{define}}` and `{{block}}`.
pub(crate) struct Parsed {
    pub nodes: Vec<Node>,
    pub defines: HashMap<String, Vec<Node>>,
}

pub(crate) fn parse(text: &str) -> Result<Parsed> {
    let mut parser = Parser {
        tokens: lex(text),
        index: 0,
        furthest: 0,
        vars: vec!["$".to_string()],
        range_depth: 0,
        action_line: 0,
        defines: HashMap::new(),
    };
    let nodes = parser.parse_root()?;
    Ok(Parsed {
        nodes,
        defines: parser.defines,
    })
}

struct Parser {
    tokens: Vec<Token>,
    index: usize,
    /// The furthest token read: Go reports parse errors at its line.
    furthest: usize,
    /// Variables in scope, innermost last.
    vars: Vec<String>,
    range_depth: usize,
    /// Line where the action being parsed started (0 outside actions).
    action_line: usize,
    defines: HashMap<String, Vec<Node>>,
}

/// Which statement `item_list` stopped at.
enum Terminator {
    End,
    Else,
}

impl Parser {
    fn error<T>(&self, message: impl Into<String>) -> Result<T> {
        let line = self
            .tokens
            .get(self.furthest)
            .or(self.tokens.last())
            .map_or(1, |t| t.line);
        Err(TemplateError::Parse {
            line,
            message: message.into(),
        })
    }

    fn token(&self, index: usize) -> Token {
        let last = self.tokens.len().saturating_sub(1);
        self.tokens
            .get(index.min(last))
            .cloned()
            .unwrap_or_else(|| Token {
                kind: Kind::Eof,
                pos: 0,
                text: String::new(),
                line: 1,
            })
    }

    /// Consumes the next token; a lexer error ends parsing with the lexer's message.
    fn next(&mut self) -> Result<Token> {
        let token = self.token(self.index);
        self.furthest = self
            .furthest
            .max(self.index.min(self.tokens.len().saturating_sub(1)));
        if token.kind == Kind::Error {
            return self.unexpected(&token, "");
        }
        if self.index < self.tokens.len() {
            self.index += 1;
        }
        Ok(token)
    }

    fn backup(&mut self) {
        self.index = self.index.saturating_sub(1);
    }

    fn peek(&mut self) -> Token {
        self.furthest = self
            .furthest
            .max(self.index.min(self.tokens.len().saturating_sub(1)));
        self.token(self.index)
    }

    fn next_non_space(&mut self) -> Result<Token> {
        loop {
            let token = self.next()?;
            if token.kind != Kind::Space {
                return Ok(token);
            }
        }
    }

    /// Skips spaces and returns the token after them without consuming it.
    fn peek_non_space(&mut self) -> Token {
        while self.peek().kind == Kind::Space {
            self.index += 1;
        }
        self.peek()
    }

    fn unexpected<T>(&self, token: &Token, context: &str) -> Result<T> {
        if token.kind == Kind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(" in action started at :{}", self.action_line);
                if token.text.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.error(format!("{}{extra}", token.text));
        }
        self.error(format!("unexpected {token} in {context}"))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> Result<Token> {
        let token = self.next_non_space()?;
        if token.kind != kind {
            return self.unexpected(&token, context);
        }
        Ok(token)
    }

    fn parse_root(&mut self) -> Result<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let mark = self.index;
                self.next()?;
                if self.next_non_space()?.kind == Kind::Define {
                    self.definition()?;
                    continue;
                }
                self.index = mark;
            }
            match self.text_or_action()? {
                Item::Node(node) => root.push(node),
                Item::End => return self.error("unexpected {{end}}"),
                Item::Else => return self.error("unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    /// Nodes up to `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> Result<(Vec<Node>, Terminator)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(node) => list.push(node),
                Item::End => return Ok((list, Terminator::End)),
                Item::Else => return Ok((list, Terminator::Else)),
            }
        }
        self.error("unexpected EOF")
    }

    fn text_or_action(&mut self) -> Result<Item> {
        let token = self.next_non_space()?;
        match token.kind {
            Kind::Text => Ok(Item::Node(Node::Text(token.text))),
            Kind::LeftDelim => {
                self.action_line = token.line;
                let item = self.action();
                self.action_line = 0;
                item
            }
            _ => self.unexpected(&token, "input"),
        }
    }

    fn action(&mut self) -> Result<Item> {
        let token = self.next_non_space()?;
        match token.kind {
            Kind::Block => return self.block_control().map(Item::Node),
            Kind::Break | Kind::Continue => return self.break_or_continue(&token),
            Kind::Else => return self.else_control(),
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Item::End);
            }
            Kind::If => return self.branch(BranchKind::If).map(Item::Node),
            Kind::Range => return self.branch(BranchKind::Range).map(Item::Node),
            Kind::With => return self.branch(BranchKind::With).map(Item::Node),
            Kind::Template => return self.template_control().map(Item::Node),
            _ => {}
        }
        self.backup();
        let pos = self.peek().pos;
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Item::Node(Node::Action(Action { pos, pipe })))
    }

    fn break_or_continue(&mut self, keyword: &Token) -> Result<Item> {
        let name = format!("{{{{{}}}}}", keyword.text);
        let token = self.next_non_space()?;
        if token.kind != Kind::RightDelim {
            return self.unexpected(&token, &name);
        }
        if self.range_depth == 0 {
            return self.error(format!("{name} outside {{{{range}}}}"));
        }
        Ok(Item::Node(if keyword.kind == Kind::Break {
            Node::Break
        } else {
            Node::Continue
        }))
    }

    fn else_control(&mut self) -> Result<Item> {
        let peek = self.peek_non_space();
        if peek.kind == Kind::If {
            // "{{else if ..." is read as "{{else}}{{if ...".
            return Ok(Item::Else);
        }
        self.expect(Kind::RightDelim, "else")?;
        Ok(Item::Else)
    }

    /// `{{define "name"}} ... {{end}}`, after `define`.
    fn definition(&mut self) -> Result<()> {
        let context = "define clause";
        let token = self.next_non_space()?;
        let name = self.template_name(&token, context)?;
        self.expect(Kind::RightDelim, context)?;
        let body = self.template_body(context)?;
        self.add_definition(name, body)
    }

    /// `{{block "name" pipeline}} ... {{end}}`: defines the template and calls it.
    fn block_control(&mut self) -> Result<Node> {
        let context = "block clause";
        let token = self.next_non_space()?;
        let name = self.template_name(&token, context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let body = self.template_body(context)?;
        self.add_definition(name.clone(), body)?;
        Ok(Node::Template(TemplateCall {
            pos: token.pos,
            name,
            pipe: Some(pipe),
        }))
    }

    /// The nodes of a defined template, which sees none of the variables around it.
    fn template_body(&mut self, context: &str) -> Result<Vec<Node>> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let range_depth = std::mem::replace(&mut self.range_depth, 0);
        let listed = self.item_list();
        self.vars = vars;
        self.range_depth = range_depth;
        match listed? {
            (body, Terminator::End) => Ok(body),
            (_, Terminator::Else) => self.error(format!("unexpected {{{{else}}}} in {context}")),
        }
    }

    fn add_definition(&mut self, name: String, body: Vec<Node>) -> Result<()> {
        let is_empty = |nodes: &[Node]| {
            nodes
                .iter()
                .all(|node| matches!(node, Node::Text(text) if text.trim().is_empty()))
        };
        if let Some(existing) = self.defines.get(&name) {
            if !is_empty(existing) && !is_empty(&body) {
                return self.error(format!(
                    "template: multiple definition of template {}",
                    quote(&name)
                ));
            }
            if is_empty(&body) {
                return Ok(());
            }
        }
        self.defines.insert(name, body);
        Ok(())
    }

    fn template_name(&self, token: &Token, context: &str) -> Result<String> {
        match token.kind {
            Kind::String | Kind::RawString => unquote(&token.text).or_else(|e| self.error(e)),
            _ => self.unexpected(token, context),
        }
    }

    fn template_control(&mut self) -> Result<Node> {
        let context = "template clause";
        let token = self.next_non_space()?;
        let name = self.template_name(&token, context)?;
        let pipe = if self.next_non_space()?.kind != Kind::RightDelim {
            self.backup();
            Some(self.pipeline(context, Kind::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template(TemplateCall {
            pos: token.pos,
            name,
            pipe,
        }))
    }

    fn branch(&mut self, kind: BranchKind) -> Result<Node> {
        let context = match kind {
            BranchKind::If => "if",
            BranchKind::Range => "range",
            BranchKind::With => "with",
        };
        let scope = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if kind == BranchKind::Range {
            self.range_depth += 1;
        }
        let listed = self.item_list();
        if kind == BranchKind::Range {
            self.range_depth -= 1;
        }
        let (list, terminator) = listed?;
        let else_list = match terminator {
            Terminator::End => None,
            Terminator::Else if kind == BranchKind::If && self.peek().kind == Kind::If => {
                // {{if a}}_{{else if b}}_{{end}} is {{if a}}_{{else}}{{if b}}_{{end}}{{end}}:
                // one {{end}} closes both.
                self.next()?;
                Some(vec![self.branch(BranchKind::If)?])
            }
            Terminator::Else => {
                let (else_list, terminator) = self.item_list()?;
                if let Terminator::Else = terminator {
                    return self.error("expected end; found {{else}}");
                }
                Some(else_list)
            }
        };
        self.vars.truncate(scope);
        let pos = pipe.pos;
        let branch = Branch {
            pos,
            pipe,
            list,
            else_list,
        };
        Ok(match kind {
            BranchKind::If => Node::If(branch),
            BranchKind::Range => Node::Range(branch),
            BranchKind::With => Node::With(branch),
        })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> Result<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let token = self.next_non_space()?;
            match token.kind {
                kind if kind == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let command = self.command()?;
                    pipe.cmds.push(command);
                }
                _ => return self.unexpected(&token, context),
            }
        }
    }

    /// `$x :=`, `$x =`, and `$i, $v :=` in `range`.
    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> Result<()> {
        loop {
            let variable = self.peek_non_space();
            if variable.kind != Kind::Variable {
                return Ok(());
            }
            let mark = self.index;
            self.next()?;
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space()?;
                    pipe.decl.push(Variable {
                        pos: variable.pos,
                        ident: vec![variable.text.clone()],
                    });
                    self.vars.push(variable.text);
                    return Ok(());
                }
                Kind::Char if next.text == "," => {
                    self.next_non_space()?;
                    pipe.decl.push(Variable {
                        pos: variable.pos,
                        ident: vec![variable.text.clone()],
                    });
                    self.vars.push(variable.text);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => return self.error("range can only initialize variables"),
                        }
                    }
                    return self.error(format!("too many declarations in {context}"));
                }
                _ => {
                    self.index = mark;
                    return Ok(());
                }
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> Result<()> {
        if pipe.cmds.is_empty() {
            return self.error(format!("missing value for {context}"));
        }
        for (index, command) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                command.args.first(),
                Some(
                    Arg::Bool { .. }
                        | Arg::Dot(_)
                        | Arg::Nil(_)
                        | Arg::Number(_)
                        | Arg::String { .. }
                )
            ) {
                return self.error(format!(
                    "non executable command in pipeline stage {}",
                    index + 1
                ));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> Result<Command> {
        let pos = self.peek_non_space().pos;
        let mut command = Command {
            pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                command.args.push(operand);
            }
            let token = self.next()?;
            match token.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return self.unexpected(&token, "operand"),
            }
            break;
        }
        if command.args.is_empty() {
            return self.error("empty command");
        }
        Ok(command)
    }

    fn operand(&mut self) -> Result<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            let field = self.next()?;
            fields.push(field.text[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut ident, .. } => {
                ident.extend(fields);
                Arg::Field { pos, ident }
            }
            Arg::Variable(mut variable) => {
                variable.ident.extend(fields);
                Arg::Variable(Variable {
                    pos,
                    ident: variable.ident,
                })
            }
            Arg::Bool { .. } | Arg::String { .. } | Arg::Number(_) | Arg::Nil(_) | Arg::Dot(_) => {
                return self.error(format!(
                    "unexpected . after term {}",
                    quote(&node.to_string())
                ));
            }
            node => Arg::Chain {
                pos,
                node: Box::new(node),
                fields,
            },
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>> {
        let token = self.next_non_space()?;
        let pos = token.pos;
        Ok(Some(match token.kind {
            Kind::Identifier => {
                if !funcs::is_defined(&token.text) {
                    return self.error(format!("function {} not defined", quote(&token.text)));
                }
                Arg::Identifier {
                    pos,
                    name: token.text,
                }
            }
            Kind::Dot => Arg::Dot(pos),
            Kind::Nil => Arg::Nil(pos),
            Kind::Variable => {
                let name = token.text.split('.').next().unwrap_or_default().to_string();
                if !self.vars.contains(&name) {
                    return self.error(format!("undefined variable {}", quote(&name)));
                }
                Arg::Variable(Variable {
                    pos,
                    ident: token.text.split('.').map(str::to_string).collect(),
                })
            }
            Kind::Field => Arg::Field {
                pos,
                ident: token.text[1..].split('.').map(str::to_string).collect(),
            },
            Kind::Bool => Arg::Bool {
                pos,
                value: token.text == "true",
            },
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                Arg::Number(number(&token).or_else(|e| self.error(e))?)
            }
            Kind::LeftParen => Arg::Pipe(Box::new(
                self.pipeline("parenthesized pipeline", Kind::RightParen)?,
            )),
            Kind::String | Kind::RawString => Arg::String {
                pos,
                text: unquote(&token.text).or_else(|e| self.error(e))?,
                quoted: token.text,
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

enum Item {
    Node(Node),
    End,
    Else,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BranchKind {
    If,
    Range,
    With,
}

/// A number literal as Go's parser reads it: every type it can be read as.
fn number(token: &Token) -> std::result::Result<Number, String> {
    let text = token.text.as_str();
    let mut number = Number {
        pos: token.pos,
        text: text.to_string(),
        int: None,
        uint: None,
        float: None,
    };
    if token.kind == Kind::CharConstant {
        let c = unquote_char(text)?;
        number.int = Some(c as i64);
        number.uint = Some(c as u64);
        number.float = Some(c as u32 as f64);
        return Ok(number);
    }
    if token.kind == Kind::Complex || text.ends_with('i') {
        return Err(format!(
            "complex numbers are not supported: {}",
            quote(text)
        ));
    }
    number.uint = parse_go_uint(text);
    number.int = parse_go_int(text);
    if number.int == Some(0) {
        number.uint = Some(0);
    }
    if let Some(i) = number.int {
        number.float = Some(i as f64);
    } else if let Some(u) = number.uint {
        number.float = Some(u as f64);
    } else if let Ok(f) = text.parse::<f64>() {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", quote(text)));
        }
        number.float = Some(f);
        if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            number.int = Some(f as i64);
        }
        if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 {
            number.uint = Some(f as u64);
        }
    }
    if number.int.is_none() && number.uint.is_none() && number.float.is_none() {
        return Err(format!("illegal number syntax: {}", quote(text)));
    }
    Ok(number)
}

/// Go's `strconv.ParseUint(text, 0, 64)`: prefixes 0x, 0o, 0b and 0 (octal), underscores.
fn parse_go_uint(text: &str) -> Option<u64> {
    let (radix, digits) = if let Some(rest) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
        (16, rest)
    } else if let Some(rest) = text.strip_prefix("0o").or(text.strip_prefix("0O")) {
        (8, rest)
    } else if let Some(rest) = text.strip_prefix("0b").or(text.strip_prefix("0B")) {
        (2, rest)
    } else if text.len() > 1 && text.starts_with('0') {
        (8, &text[1..])
    } else {
        (10, text)
    };
    let prefixed = radix != 10;
    if digits.starts_with('_') && !prefixed
        || digits.ends_with('_')
        || digits.contains("__")
        || digits.trim_start_matches('_').is_empty()
    {
        return None;
    }
    let digits = digits.trim_start_matches('_').replace('_', "");
    if digits.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok()
}

/// Go's `strconv.ParseInt(text, 0, 64)`.
fn parse_go_int(text: &str) -> Option<i64> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = parse_go_uint(unsigned)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.Unquote` for "..." and `...` strings.
pub(crate) fn unquote(text: &str) -> std::result::Result<String, String> {
    let invalid = || "invalid syntax".to_string();
    if let Some(raw) = text.strip_prefix('`').and_then(|t| t.strip_suffix('`')) {
        return Ok(raw.replace('\r', ""));
    }
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or_else(invalid)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(unescape(&mut chars, '"').ok_or_else(invalid)?);
    }
    Ok(out)
}

fn unquote_char(text: &str) -> std::result::Result<char, String> {
    let inner = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .ok_or_else(|| format!("malformed character constant: {text}"))?;
    let mut chars = inner.chars().peekable();
    let c = match chars.next() {
        Some('\\') => unescape(&mut chars, '\'').ok_or("invalid syntax")?,
        Some(c) => c,
        None => return Err("invalid syntax".into()),
    };
    if chars.next().is_some() {
        return Err(format!("malformed character constant: {text}"));
    }
    Ok(c)
}

/// One escape after its backslash: \n \t \\ \" \' \xHH \uHHHH \UHHHHHHHH \ooo ...
fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, quote: char) -> Option<char> {
    fn hex(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, count: usize) -> Option<char> {
        let digits: String = (0..count).filter_map(|_| chars.next()).collect();
        if digits.len() != count {
            return None;
        }
        char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
    }
    let c = match chars.next()? {
        'a' => '\u{7}',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        '\\' => '\\',
        'x' => return hex(chars, 2),
        'u' => return hex(chars, 4),
        'U' => return hex(chars, 8),
        c @ '0'..='7' => {
            let mut value = c.to_digit(8)?;
            for _ in 0..2 {
                value = value * 8 + chars.next()?.to_digit(8)?;
            }
            return char::from_u32(value).filter(|_| value < 256);
        }
        c if c == quote => c,
        _ => return None,
    };
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        match parse(text) {
            Ok(_) => String::from("parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parse_errors_read_as_gos() {
        let cases = [
            ("{{.ID}", "template: :1: bad character U+007D '}'"),
            ("{{.ID", "template: :1: unclosed action"),
            ("{{if .X}}", "template: :1: unexpected EOF"),
            ("{{end}}", "template: :1: unexpected {{end}}"),
            ("{{else}}", "template: :1: unexpected {{else}}"),
            ("{{foo .X}}", "template: :1: function \"foo\" not defined"),
            ("{{}}", "template: :1: missing value for command"),
            ("{{$x}}", "template: :1: undefined variable \"$x\""),
            (
                "a\n\n{{.X | 3}}",
                "template: :3: non executable command in pipeline stage 2",
            ),
            ("{{break}}", "template: :1: {{break}} outside {{range}}"),
            (
                "{{range $a, $b, $c := .}}{{end}}",
                "template: :1: too many declarations in range",
            ),
            (
                "{{if $a, $b := .}}{{end}}",
                "template: :1: too many declarations in if",
            ),
            (
                "{{\"x\".Y}}",
                "template: :1: unexpected . after term \"\\\"x\\\"\"",
            ),
            ("{{.X\n", "template: :2: unclosed action started at :1"),
            ("{{1x}}", "template: :1: bad number syntax: \"1x\""),
            (
                "{{99999999999999999999}}",
                "template: :1: integer overflow: \"99999999999999999999\"",
            ),
            (
                "{{if .X}}{{else}}{{else}}{{end}}",
                "template: :1: expected end; found {{else}}",
            ),
            (
                "{{with .X}}{{else if .Y}}{{end}}",
                "template: :1: unexpected <if> in input",
            ),
            ("{{(.X}}", "template: :1: unclosed left paren"),
            ("{{.X \"a}}", "template: :1: unterminated quoted string"),
        ];
        for (text, want) in cases {
            assert_eq!(error(text), want, "{text}");
        }
    }

    #[test]
    fn trees_print_back_as_gos() {
        let text = "{{if eq .A 1}}a{{else if .B}}b{{else}}{{range $i, $v := .L}}{{$v.X | printf \"%s\" (len .Y)}}{{end}}{{end}}";
        let nodes = parse(text).unwrap().nodes;
        let printed: String = nodes.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            printed,
            "{{if eq .A 1}}a{{else}}{{if .B}}b{{else}}{{range $i, $v := .L}}{{$v.X | printf \"%s\" (len .Y)}}{{end}}{{end}}{{end}}"
        );
    }

    #[test]
    fn numbers_read_as_gos() {
        let read = |text: &str| {
            number(&Token {
                kind: if text.starts_with('\'') {
                    Kind::CharConstant
                } else {
                    Kind::Number
                },
                pos: 0,
                text: text.into(),
                line: 1,
            })
        };
        let n = read("0x1F").unwrap();
        assert_eq!((n.int, n.uint, n.float), (Some(31), Some(31), Some(31.0)));
        let n = read("1e3").unwrap();
        assert_eq!((n.int, n.float), (Some(1000), Some(1000.0)));
        let n = read("1.5").unwrap();
        assert_eq!((n.int, n.float), (None, Some(1.5)));
        assert_eq!(read("017").unwrap().int, Some(15));
        assert_eq!(read("1_000").unwrap().int, Some(1000));
        assert_eq!(read("-2").unwrap().uint, None);
        assert_eq!(read("'a'").unwrap().int, Some(97));
        assert_eq!(read("'\\n'").unwrap().int, Some(10));
    }

    #[test]
    fn strings_unquote_as_gos() {
        assert_eq!(unquote(r#""a\tb\"\u00e9\x41\101""#).unwrap(), "a\tb\"éAA");
        assert_eq!(unquote("`a\\n`").unwrap(), "a\\n");
        assert!(unquote(r#""\q""#).is_err());
    }
}
