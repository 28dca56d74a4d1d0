//! The expressions the local DynamoDB understands: exactly what the model-slot adapter sends, and a
//! little around it. Anything else is refused with a `ValidationException` that says so, never
//! answered differently from DynamoDB.
//!
//! ```text
//! update    := SET action ("," action)*
//! action    := #name "=" operand (("+" | "-") operand)?
//! condition := or;  or := and ("OR" and)*;  and := not ("AND" not)*;  not := "NOT" not | primary
//! primary   := "(" condition ")" | attribute_exists(#name) | attribute_not_exists(#name)
//!            | operand ("=" | "<>" | "<" | "<=" | ">" | ">=") operand
//! operand   := #name | :value
//! ```
//!
//! Attribute names are accepted only as `#placeholders`: DynamoDB refuses some 570 reserved words as
//! bare names, a list the stand-in does not keep, so it takes none rather than accept one AWS refuses.

use super::error::DbError;

/// A value in an expression: an attribute (by its `#placeholder`) or an expression value (`:name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Attribute(String),
    Value(String),
}

/// The right-hand side of a SET action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetValue {
    Operand(Operand),
    Plus(Operand, Operand),
    Minus(Operand, Operand),
}

/// One `#name = value` of a SET clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAction {
    pub attribute: String,
    pub value: SetValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A condition expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Or(Box<Condition>, Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare(Operand, Comparator, Operand),
    Exists(String),
    NotExists(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Name(String),
    Value(String),
    Word(String),
    Symbol(&'static str),
}

impl Token {
    fn text(&self) -> String {
        match self {
            Self::Name(s) | Self::Value(s) | Self::Word(s) => s.clone(),
            Self::Symbol(s) => (*s).to_owned(),
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self, Self::Word(w) if w.eq_ignore_ascii_case(word))
    }
}

const SYMBOLS: [&str; 13] = [
    "<>", "<=", ">=", "<", ">", "=", "(", ")", ",", "+", "-", ".", "[",
];

fn tokenize(kind: &str, text: &str) -> Result<Vec<Token>, DbError> {
    let mut tokens = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let word_len = |s: &str| {
            s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(s.len())
        };
        let (token, len) = if let Some(after) = rest.strip_prefix('#') {
            let n = word_len(after);
            (Token::Name(format!("#{}", &after[..n])), n + 1)
        } else if let Some(after) = rest.strip_prefix(':') {
            let n = word_len(after);
            (Token::Value(format!(":{}", &after[..n])), n + 1)
        } else if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            let n = word_len(rest);
            (Token::Word(rest[..n].to_owned()), n)
        } else if let Some(symbol) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            (Token::Symbol(symbol), symbol.len())
        } else {
            let bad: String = rest.chars().take(1).collect();
            return Err(DbError::validation(format!(
                "Invalid {kind}: Syntax error; token: \"{bad}\", near: \"{}\"",
                rest.chars().take(12).collect::<String>()
            )));
        };
        if matches!(&token, Token::Name(n) | Token::Value(n) if n.len() == 1) {
            return Err(DbError::validation(format!(
                "Invalid {kind}: Syntax error; token: \"{}\"",
                token.text()
            )));
        }
        tokens.push(token);
        rest = rest[len..].trim_start();
    }
    Ok(tokens)
}

struct Parser {
    kind: &'static str,
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn new(kind: &'static str, text: &str) -> Result<Self, DbError> {
        Ok(Self {
            kind,
            tokens: tokenize(kind, text)?,
            at: 0,
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn syntax(&self, token: Option<&Token>) -> DbError {
        let token = token.map_or_else(|| "<EOF>".to_owned(), Token::text);
        DbError::validation(format!(
            "Invalid {}: Syntax error; token: \"{token}\"",
            self.kind
        ))
    }

    fn unsupported(&self, what: &str) -> DbError {
        DbError::validation(format!(
            "Invalid {}: the local DynamoDB does not support {what} (it answers SET with + and -, \
             comparisons, AND/OR/NOT and attribute_exists/attribute_not_exists, on #name placeholders)",
            self.kind
        ))
    }

    fn expect(&mut self, symbol: &str) -> Result<(), DbError> {
        match self.next() {
            Some(Token::Symbol(s)) if s == symbol => Ok(()),
            other => Err(self.syntax(other.as_ref())),
        }
    }

    fn end(&self) -> Result<(), DbError> {
        match self.peek() {
            None => Ok(()),
            Some(Token::Symbol(".") | Token::Symbol("[")) => {
                Err(self.unsupported("nested attribute paths"))
            }
            Some(t) => Err(self.syntax(Some(t))),
        }
    }

    fn attribute(&mut self) -> Result<String, DbError> {
        match self.next() {
            Some(Token::Name(name)) => {
                if matches!(self.peek(), Some(Token::Symbol(".") | Token::Symbol("["))) {
                    return Err(self.unsupported("nested attribute paths"));
                }
                Ok(name)
            }
            Some(Token::Word(word)) => Err(self.unsupported(&format!(
                "the bare attribute name {word:?}; name attributes with #placeholders"
            ))),
            other => Err(self.syntax(other.as_ref())),
        }
    }

    fn operand(&mut self) -> Result<Operand, DbError> {
        match self.peek() {
            Some(Token::Value(_)) => match self.next() {
                Some(Token::Value(v)) => Ok(Operand::Value(v)),
                other => Err(self.syntax(other.as_ref())),
            },
            Some(Token::Word(w)) if self.tokens.get(self.at + 1) == Some(&Token::Symbol("(")) => {
                let w = w.clone();
                Err(self.unsupported(&format!("the function {w}() here")))
            }
            _ => self.attribute().map(Operand::Attribute),
        }
    }

    fn set_action(&mut self) -> Result<SetAction, DbError> {
        let attribute = self.attribute()?;
        self.expect("=")?;
        let left = self.operand()?;
        let value = match self.peek() {
            Some(Token::Symbol("+")) => {
                self.next();
                SetValue::Plus(left, self.operand()?)
            }
            Some(Token::Symbol("-")) => {
                self.next();
                SetValue::Minus(left, self.operand()?)
            }
            _ => SetValue::Operand(left),
        };
        Ok(SetAction { attribute, value })
    }

    fn or(&mut self) -> Result<Condition, DbError> {
        let mut left = self.and()?;
        while self.peek().is_some_and(|t| t.is_word("OR")) {
            self.next();
            left = Condition::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition, DbError> {
        let mut left = self.not()?;
        while self.peek().is_some_and(|t| t.is_word("AND")) {
            self.next();
            left = Condition::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Condition, DbError> {
        if self.peek().is_some_and(|t| t.is_word("NOT")) {
            self.next();
            return Ok(Condition::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, DbError> {
        match self.peek().cloned() {
            Some(Token::Symbol("(")) => {
                self.next();
                let inner = self.or()?;
                self.expect(")")?;
                Ok(inner)
            }
            Some(Token::Word(word))
                if self.tokens.get(self.at + 1) == Some(&Token::Symbol("(")) =>
            {
                let exists = match word.as_str() {
                    "attribute_exists" => true,
                    "attribute_not_exists" => false,
                    other => return Err(self.unsupported(&format!("the function {other}()"))),
                };
                self.next();
                self.next();
                let attribute = self.attribute()?;
                self.expect(")")?;
                Ok(if exists {
                    Condition::Exists(attribute)
                } else {
                    Condition::NotExists(attribute)
                })
            }
            _ => {
                let left = self.operand()?;
                let comparator = match self.next() {
                    Some(Token::Symbol("=")) => Comparator::Eq,
                    Some(Token::Symbol("<>")) => Comparator::Ne,
                    Some(Token::Symbol("<")) => Comparator::Lt,
                    Some(Token::Symbol("<=")) => Comparator::Le,
                    Some(Token::Symbol(">")) => Comparator::Gt,
                    Some(Token::Symbol(">=")) => Comparator::Ge,
                    Some(t) if t.is_word("BETWEEN") || t.is_word("IN") => {
                        return Err(self.unsupported(&t.text()));
                    }
                    other => return Err(self.syntax(other.as_ref())),
                };
                Ok(Condition::Compare(left, comparator, self.operand()?))
            }
        }
    }
}

/// Parse an UpdateExpression.
pub fn parse_update(text: &str) -> Result<Vec<SetAction>, DbError> {
    let mut p = Parser::new("UpdateExpression", text)?;
    match p.next() {
        Some(t) if t.is_word("SET") => {}
        Some(t) if ["REMOVE", "ADD", "DELETE"].iter().any(|w| t.is_word(w)) => {
            return Err(p.unsupported(&format!("{} clauses", t.text().to_uppercase())));
        }
        other => return Err(p.syntax(other.as_ref())),
    }
    let mut actions = vec![p.set_action()?];
    while p.peek() == Some(&Token::Symbol(",")) {
        p.next();
        actions.push(p.set_action()?);
    }
    if p.peek().is_some_and(|t| {
        ["SET", "REMOVE", "ADD", "DELETE"]
            .iter()
            .any(|w| t.is_word(w))
    }) {
        return Err(p.unsupported("more than one clause"));
    }
    p.end()?;
    Ok(actions)
}

/// Parse a ConditionExpression.
pub fn parse_condition(text: &str) -> Result<Condition, DbError> {
    let mut p = Parser::new("ConditionExpression", text)?;
    let condition = p.or()?;
    p.end()?;
    Ok(condition)
}

impl Operand {
    fn placeholder(&self) -> &str {
        match self {
            Self::Attribute(p) | Self::Value(p) => p,
        }
    }
}

/// Every placeholder an update and a condition use: (`#names`, `:values`).
pub fn placeholders(
    actions: &[SetAction],
    condition: Option<&Condition>,
) -> (Vec<String>, Vec<String>) {
    let mut names = Vec::new();
    let mut values = Vec::new();
    let mut operand = |o: &Operand| match o {
        Operand::Attribute(_) => names.push(o.placeholder().to_owned()),
        Operand::Value(_) => values.push(o.placeholder().to_owned()),
    };
    let mut attribute_names = Vec::new();
    for action in actions {
        attribute_names.push(action.attribute.clone());
        match &action.value {
            SetValue::Operand(a) => operand(a),
            SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
                operand(a);
                operand(b);
            }
        }
    }
    let mut stack: Vec<&Condition> = condition.into_iter().collect();
    while let Some(c) = stack.pop() {
        match c {
            Condition::Or(a, b) | Condition::And(a, b) => {
                stack.push(a);
                stack.push(b);
            }
            Condition::Not(a) => stack.push(a),
            Condition::Compare(a, _, b) => {
                operand(a);
                operand(b);
            }
            Condition::Exists(n) | Condition::NotExists(n) => attribute_names.push(n.clone()),
        }
    }
    names.extend(attribute_names);
    (names, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(n: &str) -> Operand {
        Operand::Attribute(n.into())
    }

    fn val(n: &str) -> Operand {
        Operand::Value(n.into())
    }

    #[test]
    fn parses_the_adapters_expressions() {
        assert_eq!(
            parse_update("SET #next = #next + :interval").unwrap(),
            [SetAction {
                attribute: "#next".into(),
                value: SetValue::Plus(attr("#next"), val(":interval")),
            }]
        );
        assert_eq!(
            parse_update("set #a = :a, #b = #b - :one").unwrap().len(),
            2
        );
        assert_eq!(
            parse_condition("attribute_not_exists(#next) OR #next < :notBefore").unwrap(),
            Condition::Or(
                Box::new(Condition::NotExists("#next".into())),
                Box::new(Condition::Compare(
                    attr("#next"),
                    Comparator::Lt,
                    val(":notBefore")
                )),
            )
        );
        assert_eq!(
            parse_condition("NOT (#a = :a AND #b <> :b) or #c >= :c").unwrap(),
            Condition::Or(
                Box::new(Condition::Not(Box::new(Condition::And(
                    Box::new(Condition::Compare(attr("#a"), Comparator::Eq, val(":a"))),
                    Box::new(Condition::Compare(attr("#b"), Comparator::Ne, val(":b"))),
                )))),
                Box::new(Condition::Compare(attr("#c"), Comparator::Ge, val(":c"))),
            )
        );
    }

    #[test]
    fn collects_placeholders() {
        let actions = parse_update("SET #next = #next + :interval").unwrap();
        let condition = parse_condition("attribute_exists(#k) AND #next >= :now").unwrap();
        let (names, values) = placeholders(&actions, Some(&condition));
        assert!(names.contains(&"#next".to_owned()) && names.contains(&"#k".to_owned()));
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn refuses_what_it_does_not_know_and_bad_syntax() {
        for (text, says) in [
            ("SET nextAt = :v", "bare attribute name"),
            ("REMOVE #a", "REMOVE clauses"),
            ("SET #a = :a REMOVE #b", "more than one clause"),
            ("SET #a.b = :v", "nested attribute paths"),
            ("SET #a = if_not_exists(#a, :z)", "if_not_exists()"),
            ("SET #a = ", "<EOF>"),
            ("SET #a := 1", "Syntax error"),
            ("SET # = :a", "Syntax error"),
            ("UPDATE #a", "Syntax error"),
        ] {
            let err = parse_update(text).unwrap_err();
            assert!(err.message.contains(says), "{text}: {}", err.message);
            assert_eq!(err.error_type, "ValidationException");
        }
        for (text, says) in [
            ("#a BETWEEN :x AND :y", "BETWEEN"),
            ("begins_with(#a, :p)", "begins_with()"),
            ("size(#a) > :n", "size()"),
            ("#a = :a)", "Syntax error"),
            ("(#a = :a", "<EOF>"),
            ("#a ! :b", "Syntax error"),
        ] {
            let err = parse_condition(text).unwrap_err();
            assert!(err.message.contains(says), "{text}: {}", err.message);
        }
    }
}
