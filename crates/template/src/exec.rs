//! Execution: walks the tree over the data, as Go's text/template executes, with the same
//! order of evaluation, the same variable scoping, and errors that point where Go's do.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::Template;
use crate::ast::{Arg, Branch, Command, Node, Number, Pipe, Variable};
use crate::error::TemplateError;
use crate::funcs::{self, Func, FuncSet, Param};
use crate::gofmt::{print_v, quote};
use crate::options::{MissingKey, Options};
use crate::value::{Val, all_strings};

type Result<T> = std::result::Result<T, TemplateError>;

/// Renders a template over `data` with a set of functions. The output made before an error
/// is returned with it, as Go leaves it written.
pub(crate) fn execute(
    template: &Template,
    data: &Value,
    options: &Options<'_>,
    funcs: FuncSet,
) -> (String, Result<()>) {
    let root = Val::from_json(data);
    let mut state = State {
        text: &template.text,
        defines: &template.defines,
        depth: 0,
        out: String::new(),
        vars: vec![("$", root.clone())],
        at: At::None,
        options,
        funcs,
        root: data.as_object(),
    };
    let result = state.walk_list(&root, &template.nodes).map(|_| ());
    (state.out, result)
}

/// The node being evaluated, which errors point at.
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Node(&'t Node, usize),
    Arg(&'t Arg),
    Command(&'t Command),
    Pipe(&'t Pipe),
    Variable(&'t Variable),
}

/// How a list of nodes ended.
#[derive(PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// How deeply templates may call templates (Go allows 100000; the stack here would not).
const MAX_DEPTH: usize = 1000;

struct State<'t, 'd, 'o> {
    text: &'t str,
    defines: &'t HashMap<String, Vec<Node>>,
    depth: usize,
    out: String,
    vars: Vec<(&'t str, Val<'d>)>,
    at: At<'t>,
    options: &'o Options<'o>,
    funcs: FuncSet,
    root: Option<&'d Map<String, Value>>,
}

impl<'t, 'd> State<'t, 'd, '_> {
    fn error<T>(&self, message: impl Into<String>) -> Result<T> {
        let (pos, context) = match self.at {
            At::None => (0, String::new()),
            At::Node(node, pos) => (pos, node.to_string()),
            At::Arg(arg) => (arg.pos(), arg.to_string()),
            At::Command(command) => (command.pos, command.to_string()),
            At::Pipe(pipe) => (pipe.pos, pipe.to_string()),
            At::Variable(variable) => (variable.pos, variable.to_string()),
        };
        let before = &self.text[..pos.min(self.text.len())];
        let column = match before.rfind('\n') {
            Some(newline) => pos - newline - 1,
            None => pos,
        };
        Err(TemplateError::Exec {
            line: 1 + before.matches('\n').count(),
            column,
            context,
            message: message.into(),
        })
    }

    fn walk_list(&mut self, dot: &Val<'d>, nodes: &'t [Node]) -> Result<Flow> {
        for node in nodes {
            let flow = self.walk(dot, node)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Val<'d>, node: &'t Node) -> Result<Flow> {
        match node {
            Node::Text(text) => self.out.push_str(text),
            Node::Action(action) => {
                self.at = At::Node(node, action.pos);
                let value = self.eval_pipeline(dot, &action.pipe)?;
                if action.pipe.decl.is_empty() {
                    self.at = At::Node(node, action.pos);
                    match value {
                        Val::Invalid => self.out.push_str("<no value>"),
                        value => self.out.push_str(&print_v(&value)),
                    }
                }
            }
            Node::If(branch) => return self.walk_if_or_with(dot, branch, false),
            Node::With(branch) => return self.walk_if_or_with(dot, branch, true),
            Node::Range(branch) => return self.walk_range(dot, node, branch),
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
            Node::Template(call) => {
                self.at = At::Node(node, call.pos);
                let Some(body) = self.defines.get(&call.name) else {
                    return self.error(format!("template {} not defined", quote(&call.name)));
                };
                if self.depth == MAX_DEPTH {
                    return self.error(format!("exceeded maximum template depth ({MAX_DEPTH})"));
                }
                let dot = match &call.pipe {
                    Some(pipe) => self.eval_pipeline(dot, pipe)?,
                    None => Val::Invalid,
                };
                // A called template sees no variables but its own `$`.
                let vars = std::mem::replace(&mut self.vars, vec![("$", dot.clone())]);
                self.depth += 1;
                let result = self.walk_list(&dot, body);
                self.depth -= 1;
                self.vars = vars;
                result?;
            }
        }
        Ok(Flow::Normal)
    }

    fn walk_if_or_with(&mut self, dot: &Val<'d>, branch: &'t Branch, with: bool) -> Result<Flow> {
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, &branch.pipe)?;
        // break and continue inside if/with end the enclosing range's iteration.
        let flow = if value.is_true() {
            let dot = if with { &value } else { dot };
            self.walk_list(dot, &branch.list)
        } else if let Some(else_list) = &branch.else_list {
            self.walk_list(dot, else_list)
        } else {
            Ok(Flow::Normal)
        };
        self.vars.truncate(mark);
        flow
    }

    fn walk_range(&mut self, dot: &Val<'d>, node: &'t Node, branch: &'t Branch) -> Result<Flow> {
        self.at = At::Node(node, branch.pos);
        let scope = self.vars.len();
        let value = self.eval_pipeline(dot, &branch.pipe)?;
        let mark = self.vars.len();
        let declared = branch.pipe.decl.len();
        let mut elements: Vec<(Val<'d>, Val<'d>)> = Vec::new();
        match &value {
            Val::Array(items) => {
                let of_strings = all_strings(items.iter());
                for (index, item) in items.iter().enumerate() {
                    elements.push((Val::Int(index as i64), Val::element(item, of_strings)));
                }
            }
            Val::Strings(items) => {
                for (index, item) in items.iter().enumerate() {
                    elements.push((Val::Int(index as i64), Val::str(item.clone())));
                }
            }
            Val::Object(map) => {
                let of_strings = all_strings(map.values());
                let mut keys: Vec<&'d String> = map.keys().collect();
                keys.sort();
                for key in keys {
                    elements.push((
                        Val::str(key.as_str()),
                        Val::element(&map[key.as_str()], of_strings),
                    ));
                }
            }
            Val::Invalid => {}
            other => {
                let message = format!("range can't iterate over {}", print_v(other));
                return self.error(message);
            }
        }
        let iterated = !elements.is_empty();
        for (index, element) in elements {
            if declared > 0 {
                self.set_top_var(1, element.clone());
            }
            if declared > 1 {
                self.set_top_var(2, index);
            }
            let flow = self.walk_list(&element, &branch.list);
            self.vars.truncate(mark);
            if flow? == Flow::Break {
                break;
            }
        }
        if !iterated && let Some(else_list) = &branch.else_list {
            let flow = self.walk_list(dot, else_list);
            self.vars.truncate(scope);
            return flow;
        }
        self.vars.truncate(scope);
        Ok(Flow::Normal)
    }

    fn set_top_var(&mut self, from_top: usize, value: Val<'d>) {
        let at = self.vars.len() - from_top;
        self.vars[at].1 = value;
    }

    fn set_var(&mut self, name: &str, value: Val<'d>) -> Result<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => self.error(format!("undefined variable: {name}")),
        }
    }

    fn var_value(&self, name: &str) -> Result<Val<'d>> {
        match self.vars.iter().rev().find(|(n, _)| *n == name) {
            Some((_, value)) => Ok(value.clone()),
            None => self.error(format!("undefined variable: {name}")),
        }
    }

    fn eval_pipeline(&mut self, dot: &Val<'d>, pipe: &'t Pipe) -> Result<Val<'d>> {
        self.at = At::Pipe(pipe);
        let mut value: Option<Val<'d>> = None;
        for command in &pipe.cmds {
            let result = self.eval_command(dot, command, value.take())?;
            // An interface is opened: its content (or nothing, for nil) goes on.
            value = Some(result.unboxed());
        }
        let value = value.unwrap_or(Val::Invalid);
        for variable in &pipe.decl {
            let name = variable.ident[0].as_str();
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name, value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'t [Arg], final_value: &Option<Val<'d>>) -> Result<()> {
        if args.len() > 1 || final_value.is_some() {
            return self.error(format!("can't give argument to non-function {}", args[0]));
        }
        Ok(())
    }

    fn eval_command(
        &mut self,
        dot: &Val<'d>,
        command: &'t Command,
        final_value: Option<Val<'d>>,
    ) -> Result<Val<'d>> {
        let first = &command.args[0];
        let rest = &command.args[1..];
        match first {
            Arg::Field { ident, .. } => {
                self.at = At::Arg(first);
                return self.eval_field_chain(dot, dot.clone(), first, ident, rest, final_value);
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, rest, final_value),
            Arg::Identifier { name, .. } => {
                self.at = At::Arg(first);
                return self.eval_call(dot, name, At::Command(command), rest, final_value);
            }
            Arg::Pipe(pipe) => {
                self.not_a_function(&command.args, &final_value)?;
                return self.eval_pipeline(dot, pipe);
            }
            Arg::Variable(variable) => {
                return self.eval_variable(dot, first, variable, rest, final_value);
            }
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&command.args, &final_value)?;
        match first {
            Arg::Bool { value, .. } => Ok(Val::Bool(*value)),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => self.error("nil is not a command"),
            Arg::Number(number) => self.ideal_constant(first, number),
            Arg::String { text, .. } => Ok(Val::str(text.clone())),
            _ => self.error(format!(
                "can't evaluate command {}",
                quote(&first.to_string())
            )),
        }
    }

    /// A number where no type is expected: float if it is written as one, else int.
    fn ideal_constant(&mut self, node: &'t Arg, number: &Number) -> Result<Val<'d>> {
        self.at = At::Arg(node);
        let text = number.text.as_str();
        let hex_int = text.len() > 2
            && text.starts_with('0')
            && matches!(text.as_bytes()[1], b'x' | b'X')
            && !text.contains(['p', 'P']);
        let rune = text.starts_with('\'');
        if let Some(float) = number.float
            && !hex_int
            && !rune
            && text.contains(['.', 'e', 'E', 'p', 'P'])
        {
            return Ok(Val::Float(float));
        }
        if let Some(int) = number.int {
            return Ok(Val::Int(int));
        }
        if number.uint.is_some() {
            return self.error(format!("{text} overflows int"));
        }
        Ok(Val::Invalid)
    }

    fn eval_chain(
        &mut self,
        dot: &Val<'d>,
        chain: &'t Arg,
        args: &'t [Arg],
        final_value: Option<Val<'d>>,
    ) -> Result<Val<'d>> {
        let Arg::Chain { node, fields, .. } = chain else {
            return self.error("internal error: no fields in evalChainNode");
        };
        self.at = At::Arg(chain);
        if let Arg::Nil(_) = node.as_ref() {
            return self.error(format!("indirection through explicit nil in {chain}"));
        }
        let receiver = self.eval_arg(dot, Param::Any, node)?;
        self.eval_field_chain(dot, receiver, chain, fields, args, final_value)
    }

    fn eval_variable(
        &mut self,
        dot: &Val<'d>,
        node: &'t Arg,
        variable: &'t Variable,
        args: &'t [Arg],
        final_value: Option<Val<'d>>,
    ) -> Result<Val<'d>> {
        self.at = At::Variable(variable);
        let value = self.var_value(&variable.ident[0])?;
        if variable.ident.len() == 1 {
            if !args.is_empty() || final_value.is_some() {
                return self.error(format!("can't give argument to non-function {node}"));
            }
            return Ok(value);
        }
        self.eval_field_chain(dot, value, node, &variable.ident[1..], args, final_value)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val<'d>,
        mut receiver: Val<'d>,
        node: &'t Arg,
        ident: &'t [String],
        args: &'t [Arg],
        final_value: Option<Val<'d>>,
    ) -> Result<Val<'d>> {
        let Some((last, path)) = ident.split_last() else {
            return Ok(receiver);
        };
        for name in path {
            receiver = self.eval_field(dot, name, node, &[], None, receiver)?;
        }
        self.eval_field(dot, last, node, args, final_value, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &Val<'d>,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        final_value: Option<Val<'d>>,
        receiver: Val<'d>,
    ) -> Result<Val<'d>> {
        if let Val::Invalid = receiver {
            if self.options.missing_key == MissingKey::Error {
                return self.error(format!("nil data; no entry for key {}", quote(name)));
            }
            return Ok(Val::Invalid);
        }
        let static_type = receiver.type_name();
        if receiver.is_nil_interface() {
            return self.error(format!("nil pointer evaluating {static_type}.{name}"));
        }
        let Val::Object(map) = receiver.unboxed() else {
            return self.error(format!("can't evaluate field {name} in type {static_type}"));
        };
        if let Some(methods) = self.options.methods {
            let mut values = Vec::with_capacity(args.len() + 1);
            for arg in args {
                values.push(self.eval_arg(dot, Param::Any, arg)?.to_json());
            }
            if let Some(value) = &final_value {
                values.push(value.to_json());
            }
            self.at = At::Arg(node);
            if let Some(result) = methods.call(map, name, &values) {
                return match result {
                    Ok(text) => Ok(Val::str(text)),
                    Err(message) => self.error(format!("error calling {name}: {message}")),
                };
            }
        }
        if !args.is_empty() || final_value.is_some() {
            return self.error(format!("{name} is not a method but has arguments"));
        }
        let of_strings = all_strings(map.values());
        if let Some(value) = map.get(name) {
            return Ok(Val::element(value, of_strings));
        }
        if let (Some(root_type), Some(root)) = (self.options.root_type, self.root)
            && std::ptr::eq(root, map)
        {
            return self.error(format!("can't evaluate field {name} in type {root_type}"));
        }
        match self.options.missing_key {
            MissingKey::NoValue => Ok(Val::Invalid),
            MissingKey::Zero => Ok(funcs::zero_element(of_strings)),
            MissingKey::Error => self.error(format!("map has no entry for key {}", quote(name))),
        }
    }

    fn eval_call(
        &mut self,
        dot: &Val<'d>,
        name: &str,
        node: At<'t>,
        args: &'t [Arg],
        final_value: Option<Val<'d>>,
    ) -> Result<Val<'d>> {
        let Some((func, signature)) = funcs::lookup(name, self.funcs) else {
            return self.error(format!("{} is not a defined function", quote(name)));
        };
        let fixed = signature.fixed;
        let count = args.len() + usize::from(final_value.is_some());
        if signature.variadic.is_some() {
            if count < fixed.len() {
                return self.error(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    fixed.len(),
                    args.len()
                ));
            }
        } else if count != fixed.len() {
            return self.error(format!(
                "wrong number of args for {name}: want {} got {count}",
                fixed.len()
            ));
        }
        if matches!(func, Func::And | Func::Or) {
            let mut value = Val::Invalid;
            for arg in args {
                value = self.eval_arg(dot, Param::Value, arg)?;
                if value.is_true() == (func == Func::Or) {
                    return Ok(value);
                }
            }
            return Ok(final_value.unwrap_or(value));
        }
        let param_at = |index: usize| {
            fixed
                .get(index)
                .copied()
                .or(signature.variadic)
                .unwrap_or(Param::Any)
        };
        let mut values = Vec::with_capacity(count);
        for (index, arg) in args.iter().enumerate() {
            values.push(self.eval_arg(dot, param_at(index), arg)?);
        }
        if let Some(value) = final_value {
            let checked = self.validate(value, param_at(args.len()))?;
            values.push(checked);
        }
        match funcs::call(func, values) {
            Ok(value) => Ok(value),
            Err(message) => {
                self.at = node;
                self.error(format!("error calling {name}: {message}"))
            }
        }
    }

    fn eval_arg(&mut self, dot: &Val<'d>, param: Param, arg: &'t Arg) -> Result<Val<'d>> {
        self.at = At::Arg(arg);
        let value = match arg {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => {
                return match param {
                    Param::Any | Param::Value | Param::Strings => Ok(Val::Invalid),
                    other => self.error(format!("cannot assign nil to {}", other.go_name())),
                };
            }
            Arg::Field { ident, .. } => {
                self.eval_field_chain(dot, dot.clone(), arg, ident, &[], None)?
            }
            Arg::Variable(variable) => self.eval_variable(dot, arg, variable, &[], None)?,
            Arg::Pipe(pipe) => self.eval_pipeline(dot, pipe)?,
            Arg::Identifier { name, .. } => self.eval_call(dot, name, At::Arg(arg), &[], None)?,
            Arg::Chain { .. } => self.eval_chain(dot, arg, &[], None)?,
            Arg::Bool { value, .. } => match param {
                Param::Any | Param::Value => return Ok(Val::Bool(*value)),
                other => return self.literal_mismatch(other, arg),
            },
            Arg::Number(number) => match param {
                Param::Any | Param::Value => return self.ideal_constant(arg, number),
                Param::Int => match number.int {
                    Some(int) => return Ok(Val::Int(int)),
                    None => return self.literal_mismatch(param, arg),
                },
                other => return self.literal_mismatch(other, arg),
            },
            Arg::String { text, .. } => match param {
                Param::Any | Param::Value | Param::Str => return Ok(Val::str(text.clone())),
                other => return self.literal_mismatch(other, arg),
            },
        };
        self.validate(value, param)
    }

    fn literal_mismatch<T>(&self, param: Param, arg: &Arg) -> Result<T> {
        match param {
            Param::Str => self.error(format!("expected string; found {arg}")),
            Param::Int => self.error(format!("expected integer; found {arg}")),
            other => self.error(format!(
                "can't handle {arg} for arg of type {}",
                other.go_name()
            )),
        }
    }

    /// Go's `validateType`: whether a value can be passed as a parameter of this type.
    fn validate(&self, value: Val<'d>, param: Param) -> Result<Val<'d>> {
        let wrong = |got: &str| {
            format!(
                "wrong type for value; expected {}; got {got}",
                param.go_name()
            )
        };
        match param {
            Param::Any | Param::Value => Ok(value),
            _ if matches!(value, Val::Invalid) => match param {
                Param::Strings => Ok(Val::Strings(Vec::new().into())),
                _ => self.error(format!("invalid value; expected {}", param.go_name())),
            },
            _ if value.is_nil_interface() => self.error(wrong(value.type_name())),
            Param::Str => match value.unboxed() {
                value @ Val::Str(_) => Ok(value),
                other => self.error(wrong(other.type_name())),
            },
            Param::Int => match value.unboxed() {
                value @ Val::Int(_) => Ok(value),
                other => self.error(wrong(other.type_name())),
            },
            Param::Strings => match value.unboxed() {
                value @ Val::Strings(_) => Ok(value),
                Val::Array(items) if all_strings(items.iter()) => Ok(Val::Array(items)),
                other => self.error(wrong(other.type_name())),
            },
        }
    }
}
