//! The lexer: template text -> tokens, with Go's rules for delimiters, trim markers
//! (`{{- ` and ` -}}`), comments, and what may follow what inside an action. It stops at the
//! first error, which becomes an `Error` token carrying Go's message.

use std::fmt;

use crate::gofmt::quote;

const LEFT_DELIM: &str = "{{";
const RIGHT_DELIM: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords: Go prints these as `<text>` in its messages.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl Kind {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            Kind::Block
                | Kind::Break
                | Kind::Continue
                | Kind::Dot
                | Kind::Define
                | Kind::Else
                | Kind::End
                | Kind::If
                | Kind::Nil
                | Kind::Range
                | Kind::Template
                | Kind::With
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: Kind,
    /// Byte offset of the token in the template text.
    pub pos: usize,
    pub text: String,
    pub line: usize,
}

/// How Go's parser names a token in its messages: `"}"`, `<end>`, `EOF`.
impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Eof => f.write_str("EOF"),
            Kind::Error => f.write_str(&self.text),
            kind if kind.is_keyword() => write!(f, "<{}>", self.text),
            _ if self.text.chars().count() > 10 => {
                let head: String = self.text.chars().take(10).collect();
                write!(f, "{}...", quote(&head))
            }
            _ => f.write_str(&quote(&self.text)),
        }
    }
}

fn keyword(word: &str) -> Option<Kind> {
    Some(match word {
        "block" => Kind::Block,
        "break" => Kind::Break,
        "continue" => Kind::Continue,
        "define" => Kind::Define,
        "else" => Kind::Else,
        "end" => Kind::End,
        "if" => Kind::If,
        "nil" => Kind::Nil,
        "range" => Kind::Range,
        "template" => Kind::Template,
        "with" => Kind::With,
        _ => return None,
    })
}

/// Go's space characters inside actions and for trimming.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

pub(crate) fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

/// `U+007D '}'`, Go's `%#U`.
pub(crate) fn rune_name(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

#[derive(Clone, Copy)]
enum State {
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Space,
    Identifier,
    Field,
    Variable,
    Char,
    Number,
    Quote,
    RawQuote,
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    paren_depth: i32,
    tokens: Vec<Token>,
    line_starts: Vec<usize>,
}

/// Splits `input` into tokens, ending with `Eof` or at the first `Error`.
pub(crate) fn lex(input: &str) -> Vec<Token> {
    let mut line_starts = vec![0];
    line_starts.extend(input.match_indices('\n').map(|(i, _)| i + 1));
    let mut lexer = Lexer {
        input,
        pos: 0,
        start: 0,
        paren_depth: 0,
        tokens: Vec::new(),
        line_starts,
    };
    let mut state = Some(State::Text);
    while let Some(current) = state {
        state = lexer.step(current);
    }
    lexer.tokens
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    fn line_of(&self, pos: usize) -> usize {
        match self.line_starts.binary_search(&pos) {
            Ok(index) => index + 1,
            Err(index) => index,
        }
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn backup(&mut self) {
        if let Some(c) = self.input[..self.pos].chars().next_back() {
            self.pos -= c.len_utf8();
        }
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn emit(&mut self, kind: Kind) {
        self.tokens.push(Token {
            kind,
            pos: self.start,
            text: self.input[self.start..self.pos].to_string(),
            line: self.line_of(self.start),
        });
        self.start = self.pos;
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    fn error(&mut self, message: String) -> Option<State> {
        self.tokens.push(Token {
            kind: Kind::Error,
            pos: self.start,
            text: message,
            line: self.line_of(self.start),
        });
        None
    }

    /// Whether the input is at a right delimiter, and whether a trim marker precedes it.
    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim_marker(rest) && rest[2..].starts_with(RIGHT_DELIM) {
            return (true, true);
        }
        (rest.starts_with(RIGHT_DELIM), false)
    }

    /// Whether what follows may end an identifier, field or variable.
    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.rest().starts_with(RIGHT_DELIM),
        }
    }

    fn step(&mut self, state: State) -> Option<State> {
        match state {
            State::Text => self.lex_text(),
            State::LeftDelim => self.lex_left_delim(),
            State::Comment => self.lex_comment(),
            State::RightDelim => self.lex_right_delim(),
            State::InsideAction => self.lex_inside_action(),
            State::Space => self.lex_space(),
            State::Identifier => self.lex_identifier(),
            State::Field => self.lex_field_or_variable(Kind::Field),
            State::Variable => {
                if self.at_terminator() {
                    self.emit(Kind::Variable);
                    return Some(State::InsideAction);
                }
                self.lex_field_or_variable(Kind::Variable)
            }
            State::Char => self.lex_quoted('\'', "unterminated character constant"),
            State::Quote => self.lex_quoted('"', "unterminated quoted string"),
            State::RawQuote => self.lex_raw_quote(),
            State::Number => self.lex_number(),
        }
    }

    fn lex_text(&mut self) -> Option<State> {
        if let Some(offset) = self.rest().find(LEFT_DELIM) {
            let delim = self.pos + offset;
            let mut text_end = delim;
            if has_left_trim_marker(&self.input[delim + LEFT_DELIM.len()..]) {
                text_end = self.input[self.start..delim]
                    .trim_end_matches(is_space)
                    .len()
                    + self.start;
            }
            self.pos = text_end;
            if self.pos > self.start {
                self.emit(Kind::Text);
            }
            self.pos = delim;
            self.ignore();
            return Some(State::LeftDelim);
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.emit(Kind::Text);
        }
        self.emit(Kind::Eof);
        None
    }

    fn lex_left_delim(&mut self) -> Option<State> {
        self.pos += LEFT_DELIM.len();
        let trim = has_left_trim_marker(self.rest());
        let after_marker = if trim { 2 } else { 0 };
        if self.rest()[after_marker..].starts_with(LEFT_COMMENT) {
            self.pos += after_marker;
            self.ignore();
            return Some(State::Comment);
        }
        self.emit(Kind::LeftDelim);
        self.pos += after_marker;
        self.ignore();
        self.paren_depth = 0;
        Some(State::InsideAction)
    }

    fn lex_comment(&mut self) -> Option<State> {
        self.pos += LEFT_COMMENT.len();
        let Some(end) = self.rest().find(RIGHT_COMMENT) else {
            return self.error("unclosed comment".into());
        };
        self.pos += end + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT_DELIM.len();
        if trim {
            self.skip_leading_spaces();
        }
        self.ignore();
        Some(State::Text)
    }

    fn skip_leading_spaces(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches(is_space).len();
    }

    fn lex_right_delim(&mut self) -> Option<State> {
        let trim = has_right_trim_marker(self.rest());
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += RIGHT_DELIM.len();
        self.emit(Kind::RightDelim);
        if trim {
            self.skip_leading_spaces();
            self.ignore();
        }
        Some(State::Text)
    }

    fn lex_inside_action(&mut self) -> Option<State> {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return Some(State::RightDelim);
            }
            return self.error("unclosed left paren".into());
        }
        let Some(c) = self.next() else {
            return self.error("unclosed action".into());
        };
        match c {
            c if is_space(c) => {
                self.backup();
                return Some(State::Space);
            }
            '=' => self.emit(Kind::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit(Kind::Declare);
            }
            '|' => self.emit(Kind::Pipe),
            '"' => return Some(State::Quote),
            '`' => return Some(State::RawQuote),
            '$' => return Some(State::Variable),
            '\'' => return Some(State::Char),
            '.' if self.peek().is_some_and(|n| !n.is_ascii_digit()) => {
                return Some(State::Field);
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.backup();
                return Some(State::Number);
            }
            c if is_alphanumeric(c) => {
                self.backup();
                return Some(State::Identifier);
            }
            '(' => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.emit(Kind::RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error(format!("unexpected right paren {}", rune_name(c)));
                }
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(Kind::Char),
            c => {
                return self.error(format!(
                    "unrecognized character in action: {}",
                    rune_name(c)
                ));
            }
        }
        Some(State::InsideAction)
    }

    fn lex_space(&mut self) -> Option<State> {
        let mut spaces = 0;
        while self.peek().is_some_and(is_space) {
            self.next();
            spaces += 1;
        }
        // A space that starts " -}}" belongs to the delimiter.
        let from_last = &self.input[self.pos - 1..];
        if has_right_trim_marker(from_last) && from_last[2..].starts_with(RIGHT_DELIM) {
            self.backup();
            if spaces == 1 {
                return Some(State::RightDelim);
            }
        }
        self.emit(Kind::Space);
        Some(State::InsideAction)
    }

    fn lex_identifier(&mut self) -> Option<State> {
        while self.peek().is_some_and(is_alphanumeric) {
            self.next();
        }
        if !self.at_terminator() {
            let bad = self.peek().unwrap_or('\0');
            return self.error(format!("bad character {}", rune_name(bad)));
        }
        let word = &self.input[self.start..self.pos];
        let kind = match keyword(word) {
            Some(kind) => kind,
            None if word == "true" || word == "false" => Kind::Bool,
            None => Kind::Identifier,
        };
        self.emit(kind);
        Some(State::InsideAction)
    }

    fn lex_field_or_variable(&mut self, kind: Kind) -> Option<State> {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
            return Some(State::InsideAction);
        }
        while self.peek().is_some_and(is_alphanumeric) {
            self.next();
        }
        if !self.at_terminator() {
            let bad = self.peek().unwrap_or('\0');
            return self.error(format!("bad character {}", rune_name(bad)));
        }
        self.emit(kind);
        Some(State::InsideAction)
    }

    fn lex_quoted(&mut self, close: char, unterminated: &str) -> Option<State> {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some('\n') | None => return self.error(unterminated.into()),
                    Some(_) => {}
                },
                Some('\n') | None => return self.error(unterminated.into()),
                Some(c) if c == close => break,
                Some(_) => {}
            }
        }
        self.emit(if close == '"' {
            Kind::String
        } else {
            Kind::CharConstant
        });
        Some(State::InsideAction)
    }

    fn lex_raw_quote(&mut self) -> Option<State> {
        loop {
            match self.next() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::RawString);
        Some(State::InsideAction)
    }

    fn lex_number(&mut self) -> Option<State> {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", quote(&text)));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                return self.error(format!("bad number syntax: {}", quote(&text)));
            }
            self.emit(Kind::Complex);
        } else {
            self.emit(Kind::Number);
        }
        Some(State::InsideAction)
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        let mut hex = false;
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
                hex = true;
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if hex && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alphanumeric) {
            self.next();
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<(Kind, String)> {
        lex(input).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn text_and_actions() {
        assert_eq!(
            kinds("a {{.ID | json}} b"),
            vec![
                (Kind::Text, "a ".into()),
                (Kind::LeftDelim, "{{".into()),
                (Kind::Field, ".ID".into()),
                (Kind::Space, " ".into()),
                (Kind::Pipe, "|".into()),
                (Kind::Space, " ".into()),
                (Kind::Identifier, "json".into()),
                (Kind::RightDelim, "}}".into()),
                (Kind::Text, " b".into()),
                (Kind::Eof, "".into()),
            ]
        );
    }

    #[test]
    fn trim_markers_eat_spaces_around() {
        assert_eq!(
            kinds("a  \n{{- .X -}}\n  b"),
            vec![
                (Kind::Text, "a".into()),
                (Kind::LeftDelim, "{{".into()),
                (Kind::Field, ".X".into()),
                (Kind::RightDelim, "}}".into()),
                (Kind::Text, "b".into()),
                (Kind::Eof, "".into()),
            ]
        );
        // Without a space, "-3" is a number.
        assert_eq!(kinds("{{-3}}")[1], (Kind::Number, "-3".into()));
    }

    #[test]
    fn comments_vanish() {
        assert_eq!(
            kinds("a {{- /* x */ -}} b{{/* y */}}"),
            vec![
                (Kind::Text, "a".into()),
                (Kind::Text, "b".into()),
                (Kind::Eof, "".into())
            ]
        );
        assert_eq!(lex("{{/* x ")[0].text, "unclosed comment");
        assert_eq!(
            lex("{{/* x */ }}")[0].text,
            "comment ends before closing delimiter"
        );
    }

    #[test]
    fn errors_are_gos() {
        let last = |s: &str| lex(s).pop().map(|t| t.text).unwrap_or_default();
        assert_eq!(last("{{.ID}"), "bad character U+007D '}'");
        assert_eq!(last("{{.ID"), "unclosed action");
        assert_eq!(last("{{(.ID}}"), "unclosed left paren");
        assert_eq!(last("{{.ID)}}"), "unexpected right paren U+0029 ')'");
        assert_eq!(last("{{\"abc}}"), "unterminated quoted string");
        assert_eq!(last("{{`abc}}"), "unterminated raw quoted string");
        assert_eq!(last("{{$x : 1}}"), "expected :=");
        assert_eq!(last("{{3x}}"), "bad number syntax: \"3x\"");
        assert_eq!(
            last("{{\u{7}}}"),
            "unrecognized character in action: U+0007 '\u{7}'"
        );
    }

    #[test]
    fn tokens_print_as_go_names_them() {
        let tokens = lex("{{end}}{{\"a very long string\"}}{{}");
        assert_eq!(tokens[1].to_string(), "<end>");
        assert_eq!(tokens[4].to_string(), "\"\\\"a very lo\"...");
        assert_eq!(tokens[7].to_string(), "\"}\"");
    }

    #[test]
    fn lines_count_from_one() {
        let tokens = lex("a\nb{{.X}}\n{{.Y}}");
        let field_lines: Vec<usize> = tokens
            .iter()
            .filter(|t| t.kind == Kind::Field)
            .map(|t| t.line)
            .collect();
        assert_eq!(field_lines, vec![2, 3]);
    }
}
