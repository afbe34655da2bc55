//! Gates at run time: a sleep waits; a signal takes its value from the answers given to the run
//! (`run --signal name=value`), else asks on the terminal; an approval passes its value on when
//! approved (`run --approve name`, or `y` on the terminal). Without an answer and without a
//! terminal the node fails at once and says how to answer; on a terminal it fails when nobody
//! answers within the gate's timeout. The sandbox runs gates the same way (Propeller runs them
//! itself, not in a container).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use flytekit_idl::core::{LiteralMap, LiteralType};

use super::graph::GateNode;
use super::{Engine, EngineError, Run};
use crate::type_engine::{describe_type, literal_from_text, literal_to_json};

/// Answers to a run's gates, given before it starts.
#[derive(Clone, Debug, Default)]
pub struct GateAnswers {
    /// Signal values by signal id, as text (`42`, `hello`, `[1,2]`): parsed against the gate's
    /// type as `run` parses inputs.
    pub signals: BTreeMap<String, String>,
    /// The approval gates to approve, by signal id.
    pub approvals: BTreeSet<String>,
    /// Ask on the terminal (stderr prompt, stdin answer) for gates without an answer.
    pub interactive: bool,
}

/// Lines typed on stdin, read by one thread for every prompt of the process.
fn stdin_lines() -> &'static Mutex<Receiver<String>> {
    static LINES: OnceLock<Mutex<Receiver<String>>> = OnceLock::new();
    LINES.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            loop {
                let mut line = String::new();
                match stdin.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx
                            .send(line.trim_end_matches(['\n', '\r']).to_string())
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        Mutex::new(rx)
    })
}

/// Why a prompt got no answer.
enum NoAnswer {
    TimedOut,
    Closed,
    Cancelled,
}

/// Asks `question` on the terminal and waits up to `timeout` for a line.
fn ask(question: &str, timeout: Duration, run: &Run) -> Result<String, NoAnswer> {
    let lines = stdin_lines().lock().unwrap_or_else(|p| p.into_inner());
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} ");
    let _ = err.flush();
    drop(err);
    let deadline = Instant::now() + timeout;
    loop {
        if run.cancel.is_cancelled() {
            return Err(NoAnswer::Cancelled);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(NoAnswer::TimedOut);
        }
        match lines.recv_timeout(left.min(Duration::from_millis(200))) {
            Ok(line) => return Ok(line),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err(NoAnswer::Closed),
        }
    }
}

impl Engine {
    /// Runs gate `g` at `path` on its resolved `inputs` (an approval's value).
    pub(super) fn run_gate(
        &self,
        g: &GateNode,
        entity: &str,
        inputs: LiteralMap,
        path: &str,
        run: &Run,
    ) -> Result<LiteralMap, EngineError> {
        let started = Instant::now();
        let answers = &self.inner.options.gates;
        let fail = |message: String| {
            let e = EngineError::Gate {
                node: path.to_string(),
                gate: entity.to_string(),
                message,
            };
            run.progress.failed(path, entity, &e.to_string());
            e
        };
        let no_answer = |why: NoAnswer, timeout: Duration| match why {
            NoAnswer::TimedOut => fail(format!("nobody answered within {timeout:?}; timed out")),
            NoAnswer::Closed => fail("standard input closed before an answer".into()),
            NoAnswer::Cancelled => EngineError::Cancelled,
        };
        run.progress.started(path, entity);
        let outputs = match g {
            GateNode::Sleep(d) => {
                let d = *d;
                run.block_on(async move { tokio::time::sleep(d).await })?;
                LiteralMap::default()
            }
            GateNode::Signal {
                id,
                ty,
                output,
                timeout,
            } => {
                let parse = |raw: &str| parse_signal(id, ty, raw).map_err(&fail);
                let literal = match answers.signals.get(id) {
                    Some(raw) => parse(raw)?,
                    None if answers.interactive => loop {
                        let q = format!(
                            "[Input Gate] {path}: value of signal '{id}' ({}):",
                            describe_type(ty)
                        );
                        let raw = ask(&q, *timeout, run).map_err(|w| no_answer(w, *timeout))?;
                        match parse_signal(id, ty, &raw) {
                            Ok(l) => break l,
                            Err(e) => eprintln!("{e}; try again"),
                        }
                    },
                    None => {
                        return Err(fail(format!(
                            "it waits for signal '{id}' ({}); pass `--signal {id}=<value>` to \
                             `run`, or run on a terminal to answer it",
                            describe_type(ty)
                        )));
                    }
                };
                let mut out = LiteralMap::default();
                out.literals.insert(output.clone(), literal);
                out
            }
            GateNode::Approve { id, var, timeout } => {
                let value =
                    inputs.literals.get(var).cloned().ok_or_else(|| {
                        fail(format!("the value to approve ('{var}') is missing"))
                    })?;
                let approved = if answers.approvals.contains(id) {
                    true
                } else if answers.interactive {
                    let q = format!(
                        "[Approval Gate] {path}: approve '{id}' of {}? [Y/n]",
                        literal_to_json(&value)
                    );
                    let raw = ask(&q, *timeout, run).map_err(|w| no_answer(w, *timeout))?;
                    !matches!(raw.trim().to_lowercase().as_str(), "n" | "no")
                } else {
                    return Err(fail(format!(
                        "it waits for the approval '{id}'; pass `--approve {id}` to `run`, or run \
                         on a terminal to answer it"
                    )));
                };
                if !approved {
                    return Err(fail(format!("the approval '{id}' was refused")));
                }
                let mut out = LiteralMap::default();
                out.literals.insert(var.clone(), value);
                out
            }
        };
        run.progress
            .finished(path, entity, false, started.elapsed());
        Ok(outputs)
    }
}

fn parse_signal(
    id: &str,
    ty: &LiteralType,
    raw: &str,
) -> Result<flytekit_idl::core::Literal, String> {
    literal_from_text(ty, raw).map_err(|reason| {
        format!(
            "signal '{id}' expects {}, got '{raw}': {reason}",
            describe_type(ty)
        )
    })
}
