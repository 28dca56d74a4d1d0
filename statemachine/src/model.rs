//! The typed form of a loaded state-machine definition.

use crate::intrinsics::Call;
use crate::jsonata::Expression;
use crate::jsonpath::JsonPath;
use serde_json::Value;
use std::collections::HashMap;

/// A validated state machine (or a Parallel branch / Map iterator).
#[derive(Debug, Clone)]
pub struct StateMachine {
    /// `StartAt`.
    pub start_at: String,
    /// The states by name.
    pub states: HashMap<String, State>,
    /// `TimeoutSeconds` of the whole machine, if any.
    pub timeout_seconds: Option<u64>,
}

/// The language a state's fields are written in (`QueryLanguage`, per state or for the
/// whole machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryLanguage {
    /// `JSONPath` (the default): paths, `.$` keys and intrinsics.
    #[default]
    JsonPath,
    /// `JSONata`: `{% ... %}` expressions, `Arguments`, `Output`, `$states`.
    Jsonata,
}

/// `InputPath` / `OutputPath`: absent means `$`, `null` discards.
#[derive(Debug, Clone)]
pub enum PathField {
    /// Not given: the whole document.
    Default,
    /// `null`: `{}`.
    Null,
    /// A path.
    Path(JsonPath),
}

/// `ResultPath`: absent means `$`, `null` keeps the input.
#[derive(Debug, Clone)]
pub enum ResultPathField {
    /// Not given: the result replaces the input.
    Default,
    /// `null`: the result is discarded.
    Null,
    /// A reference path.
    Path(JsonPath),
}

/// A payload template: JSONPath's `Parameters`, `ItemSelector`, `ResultSelector`,
/// `Assign`; JSONata's `Arguments`, `Output`, `Assign`, `Items`, `Condition`, ...
#[derive(Debug, Clone)]
pub enum Template {
    /// A constant.
    Literal(Value),
    /// An object whose members are templates (the key is the output name).
    Object(Vec<(String, Template)>),
    /// An array of templates.
    Array(Vec<Template>),
    /// A `key.$` member whose value is a path; `field` is the key with `.$`.
    Path {
        /// The path.
        path: JsonPath,
        /// The field name as written (`key.$`).
        field: String,
    },
    /// A `key.$` member whose value is an intrinsic function.
    Intrinsic {
        /// The call.
        call: Call,
        /// The field name as written.
        field: String,
    },
    /// A `{% ... %}` string of a JSONata state.
    Jsonata {
        /// The expression.
        expr: Expression,
        /// Where it is, as AWS names it in errors (`Output/result`).
        location: String,
    },
}

/// A string field given literally or through a path (`Error`/`ErrorPath`, ...).
#[derive(Debug, Clone)]
pub enum StrOrPath {
    /// The literal.
    Literal(String),
    /// A path, or an intrinsic function.
    Path(JsonPath),
    /// An intrinsic function (allowed in ErrorPath/CausePath).
    Intrinsic(Call),
    /// A JSONata expression (a JSONata Fail state's `Error`/`Cause`).
    Jsonata(Expression),
}

/// A number given literally or through a path.
#[derive(Debug, Clone)]
pub enum NumOrPath {
    /// The literal.
    Literal(f64),
    /// A path to it.
    Path(JsonPath),
    /// A JSONata expression.
    Jsonata(Expression),
}

/// One `Retry` entry.
#[derive(Debug, Clone)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: f64,
    /// `MaxAttempts` (default 3).
    pub max_attempts: u32,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<f64>,
    /// `JitterStrategy` is `FULL`.
    pub full_jitter: bool,
}

/// One `Catch` entry.
#[derive(Debug, Clone)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `ResultPath` (default `$`).
    pub result_path: ResultPathField,
    /// `Next`.
    pub next: String,
    /// `Assign`.
    pub assign: Option<Template>,
    /// `Output` (JSONata).
    pub output: Option<Template>,
}

/// What a state does after it finishes.
#[derive(Debug, Clone)]
pub enum Transition {
    /// `Next`.
    Next(String),
    /// `End: true` (also Succeed / Fail / Choice, which have neither).
    End,
}

/// The parts every state may have.
#[derive(Debug, Clone)]
pub struct State {
    /// The state's name.
    pub name: String,
    /// The language of its fields.
    pub language: QueryLanguage,
    /// `InputPath`.
    pub input_path: PathField,
    /// `OutputPath`.
    pub output_path: PathField,
    /// `Next` / `End`.
    pub transition: Transition,
    /// `Assign`.
    pub assign: Option<Template>,
    /// `Output` (JSONata).
    pub output: Option<Template>,
    /// What kind of state.
    pub kind: StateKind,
    /// Whether any field may read the context object (`$$`, `$states.context`); the
    /// engine builds it only for such states.
    pub uses_context: bool,
}

/// Data shared by the states that produce a result.
#[derive(Debug, Clone, Default)]
pub struct ResultHandling {
    /// `Parameters` (JSONata: `Arguments`).
    pub parameters: Option<Template>,
    /// `ResultSelector`.
    pub result_selector: Option<Template>,
    /// `ResultPath`.
    pub result_path: Option<ResultPathField>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

/// `Task` specifics.
#[derive(Debug, Clone)]
pub struct TaskState {
    /// `Resource`.
    pub resource: String,
    /// Parameters, ResultSelector, ResultPath, Retry, Catch.
    pub io: ResultHandling,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout: Option<NumOrPath>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat: Option<NumOrPath>,
}

/// `Wait` specifics.
#[derive(Debug, Clone)]
pub enum WaitFor {
    /// `Seconds`.
    Seconds(f64),
    /// `SecondsPath`.
    SecondsPath(JsonPath),
    /// `Timestamp`.
    Timestamp(String),
    /// `TimestampPath`.
    TimestampPath(JsonPath),
    /// `Seconds` as a JSONata expression.
    SecondsExpr(Expression),
    /// `Timestamp` as a JSONata expression.
    TimestampExpr(Expression),
}

/// A choice comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpKind {
    /// String comparisons.
    String,
    /// Numeric comparisons.
    Numeric,
    /// Timestamp comparisons.
    Timestamp,
    /// Boolean equality.
    Boolean,
}

/// The relation a comparison tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// `*Equals`.
    Eq,
    /// `*LessThan`.
    Lt,
    /// `*GreaterThan`.
    Gt,
    /// `*LessThanEquals`.
    Le,
    /// `*GreaterThanEquals`.
    Ge,
}

/// A type test (`IsNull`, `IsPresent`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeTest {
    /// `IsNull`.
    Null,
    /// `IsPresent`.
    Present,
    /// `IsNumeric`.
    Numeric,
    /// `IsString`.
    String,
    /// `IsBoolean`.
    Boolean,
    /// `IsTimestamp`.
    Timestamp,
}

/// A Choice rule (without its `Next`).
#[derive(Debug, Clone)]
pub enum Rule {
    /// `And`.
    And(Vec<Rule>),
    /// `Or`.
    Or(Vec<Rule>),
    /// `Not`.
    Not(Box<Rule>),
    /// A comparison of `Variable` with a literal or another path.
    Compare {
        /// `Variable`.
        variable: JsonPath,
        /// Kind of values compared.
        kind: CmpKind,
        /// The relation.
        relation: Relation,
        /// The literal operand, or a path (`...Path` operators).
        operand: Operand,
    },
    /// `StringMatches`.
    Matches {
        /// `Variable`.
        variable: JsonPath,
        /// The pattern with `*` wildcards.
        pattern: String,
    },
    /// `IsNull`, `IsPresent`, ...
    Test {
        /// `Variable`.
        variable: JsonPath,
        /// Which test.
        test: TypeTest,
        /// The expected boolean.
        expected: bool,
    },
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub enum Operand {
    /// A literal.
    Literal(Value),
    /// A path (`...Path` operators).
    Path(JsonPath),
}

/// What decides whether a Choice rule matches.
#[derive(Debug, Clone)]
pub enum ChoiceTest {
    /// A JSONPath rule.
    Rule(Rule),
    /// A JSONata `Condition` (`true`, `false` or an expression).
    Condition(Template),
}

/// A top-level Choice rule with its target.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The rule.
    pub test: ChoiceTest,
    /// `Next`.
    pub next: String,
    /// `Assign`.
    pub assign: Option<Template>,
    /// `Output` (JSONata).
    pub output: Option<Template>,
}

/// `Map` specifics.
#[derive(Debug, Clone)]
pub struct MapState {
    /// `ItemProcessor` / `Iterator`.
    pub processor: Box<StateMachine>,
    /// Distributed mode (`ProcessorConfig.Mode` = `DISTRIBUTED`).
    pub distributed: bool,
    /// `ItemsPath`.
    pub items_path: Option<JsonPath>,
    /// `Items` (JSONata).
    pub items: Option<Template>,
    /// `ItemSelector` (JSONPath also `Parameters`).
    pub item_selector: Option<Template>,
    /// `MaxConcurrency` / `MaxConcurrencyPath`.
    pub max_concurrency: Option<NumOrPath>,
    /// `ToleratedFailureCount` / `...Path`.
    pub tolerated_failure_count: Option<NumOrPath>,
    /// `ToleratedFailurePercentage` / `...Path`.
    pub tolerated_failure_percentage: Option<NumOrPath>,
    /// ResultSelector, ResultPath, Retry, Catch.
    pub io: ResultHandling,
}

/// The state types.
#[derive(Debug, Clone)]
pub enum StateKind {
    /// `Pass`.
    Pass {
        /// `Result`.
        result: Option<Value>,
        /// Parameters and ResultPath.
        io: ResultHandling,
    },
    /// `Task`.
    Task(Box<TaskState>),
    /// `Choice`.
    Choice {
        /// `Choices`.
        choices: Vec<Choice>,
        /// `Default`.
        default: Option<String>,
    },
    /// `Wait`.
    Wait(WaitFor),
    /// `Succeed`.
    Succeed,
    /// `Fail`.
    Fail {
        /// `Error` / `ErrorPath`.
        error: Option<StrOrPath>,
        /// `Cause` / `CausePath`.
        cause: Option<StrOrPath>,
    },
    /// `Parallel`.
    Parallel {
        /// `Branches`.
        branches: Vec<StateMachine>,
        /// Parameters, ResultSelector, ResultPath, Retry, Catch.
        io: ResultHandling,
    },
    /// `Map`.
    Map(Box<MapState>),
}

impl StateKind {
    /// The `Type` name, used for event type names (`PassStateEntered`).
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass { .. } => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice { .. } => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail { .. } => "Fail",
            StateKind::Parallel { .. } => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}
