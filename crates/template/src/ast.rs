//! The parse tree. Nodes keep their byte positions and print as Go prints them, since
//! execution errors quote both (`:1:2: executing "" at <.Foo>`).

use std::fmt;

#[derive(Debug)]
pub(crate) enum Node {
    Text(String),
    Action(Action),
    If(Branch),
    Range(Branch),
    With(Branch),
    Break,
    Continue,
    Template(TemplateCall),
}

#[derive(Debug)]
pub(crate) struct Action {
    pub pos: usize,
    pub pipe: Pipe,
}

#[derive(Debug)]
pub(crate) struct Branch {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug)]
pub(crate) struct TemplateCall {
    pub pos: usize,
    pub name: String,
    pub pipe: Option<Pipe>,
}

#[derive(Debug)]
pub(crate) struct Pipe {
    pub pos: usize,
    /// `$x = ...` rather than `$x := ...`.
    pub is_assign: bool,
    pub decl: Vec<Variable>,
    pub cmds: Vec<Command>,
}

#[derive(Debug)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// `$x.Field`: `ident[0]` is the variable's name with its `$`.
#[derive(Debug)]
pub(crate) struct Variable {
    pub pos: usize,
    pub ident: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Number {
    pub pos: usize,
    pub text: String,
    pub int: Option<i64>,
    pub uint: Option<u64>,
    pub float: Option<f64>,
}

#[derive(Debug)]
pub(crate) enum Arg {
    /// `.A.B`, without the dots.
    Field {
        pos: usize,
        ident: Vec<String>,
    },
    Variable(Variable),
    /// `(pipeline).A.B`, or fields after a function name.
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Identifier {
        pos: usize,
        name: String,
    },
    Dot(usize),
    Nil(usize),
    Bool {
        pos: usize,
        value: bool,
    },
    Number(Number),
    String {
        pos: usize,
        quoted: String,
        text: String,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Variable(variable) => variable.pos,
            Arg::Number(number) => number.pos,
            Arg::Pipe(pipe) => pipe.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { ident, .. } => {
                for id in ident {
                    write!(f, ".{id}")?;
                }
                Ok(())
            }
            Arg::Variable(variable) => write!(f, "{variable}"),
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(pipe) = node.as_ref() {
                    write!(f, "({pipe})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool { value, .. } => write!(f, "{value}"),
            Arg::Number(number) => f.write_str(&number.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(pipe) => write!(f, "{pipe}"),
        }
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ident.join("."))
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, arg) in self.args.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            match arg {
                Arg::Pipe(pipe) => write!(f, "({pipe})")?,
                arg => write!(f, "{arg}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (index, variable) in self.decl.iter().enumerate() {
                if index > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{variable}")?;
            }
            f.write_str(" := ")?;
        }
        for (index, command) in self.cmds.iter().enumerate() {
            if index > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{command}")?;
        }
        Ok(())
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Node]) -> fmt::Result {
    for node in list {
        write!(f, "{node}")?;
    }
    Ok(())
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (keyword, branch) = match self {
            Node::Text(text) => return f.write_str(text),
            Node::Action(action) => return write!(f, "{{{{{}}}}}", action.pipe),
            Node::Break => return f.write_str("{{break}}"),
            Node::Continue => return f.write_str("{{continue}}"),
            Node::Template(call) => {
                write!(f, "{{{{template {}", crate::gofmt::quote(&call.name))?;
                if let Some(pipe) = &call.pipe {
                    write!(f, " {pipe}")?;
                }
                return f.write_str("}}");
            }
            Node::If(branch) => ("if", branch),
            Node::Range(branch) => ("range", branch),
            Node::With(branch) => ("with", branch),
        };
        write!(f, "{{{{{keyword} {}}}}}", branch.pipe)?;
        write_list(f, &branch.list)?;
        if let Some(else_list) = &branch.else_list {
            f.write_str("{{else}}")?;
            write_list(f, else_list)?;
        }
        f.write_str("{{end}}")
    }
}
