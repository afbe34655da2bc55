//! Executions: launching a launch plan or a task, following its phase and its nodes, reading
//! its outputs, relaunching, terminating, and answering the signals of gate nodes.

use std::collections::BTreeMap;
use std::time::Duration;

use flytekit_idl::admin;
use flytekit_idl::core::{
    self, Identifier, Literal, LiteralMap, SignalIdentifier, WorkflowExecutionIdentifier,
};

use crate::client::Remote;
use crate::error::RemoteError;

/// An execution's phase.
pub type Phase = core::workflow_execution::Phase;
/// A node execution's phase.
pub type NodePhase = core::node_execution::Phase;

/// Whether an execution in `phase` has finished.
pub fn is_terminal(phase: Phase) -> bool {
    matches!(
        phase,
        Phase::Succeeded | Phase::Failed | Phase::Aborted | Phase::TimedOut
    )
}

/// An execution named on the command line: `NAME` (with the project and domain given
/// separately), `PROJECT:DOMAIN:NAME`, or a console URL
/// (`.../console/projects/P/domains/D/executions/NAME`).
pub fn parse_execution_id(
    text: &str,
    project: &str,
    domain: &str,
) -> Result<WorkflowExecutionIdentifier, String> {
    let id = |p: &str, d: &str, n: &str| WorkflowExecutionIdentifier {
        project: p.to_string(),
        domain: d.to_string(),
        name: n.to_string(),
        org: String::new(),
    };
    let t = text.trim();
    if let Some(pos) = t.find("/projects/") {
        let parts: Vec<&str> = t[pos + 1..].split(['/', '?', '#']).collect();
        if let ["projects", p, "domains", d, "executions", n, ..] = parts.as_slice()
            && !n.is_empty()
        {
            return Ok(id(p, d, n));
        }
        return Err(format!(
            "'{text}' is not an execution URL (.../projects/P/domains/D/executions/NAME)"
        ));
    }
    match t.split(':').collect::<Vec<_>>().as_slice() {
        [n] if !n.is_empty() => Ok(id(project, domain, n)),
        [p, d, n] if !p.is_empty() && !d.is_empty() && !n.is_empty() => Ok(id(p, d, n)),
        _ => Err(format!(
            "'{text}' is not an execution: give its name (with --project/--domain), \
             PROJECT:DOMAIN:NAME or its console URL"
        )),
    }
}

/// Where an execution's outputs are.
#[derive(Clone, Debug, PartialEq)]
pub enum Outputs {
    /// FlyteAdmin returned them inline.
    Literals(LiteralMap),
    /// FlyteAdmin returned where they are: a signed `https://` URL, or a blob store URI
    /// (`s3://...`) to read with storage credentials.
    At(String),
    /// The execution has no outputs (or none yet).
    None,
}

/// Something that changed while [`Remote::watch`] follows an execution.
#[derive(Clone, Debug)]
pub enum WatchEvent {
    /// The execution entered a phase.
    Execution(Phase),
    /// A top-level node entered a phase.
    Node {
        /// The node's id in the workflow (`n0`, ...).
        node_id: String,
        /// Its new phase.
        phase: NodePhase,
        /// Its error, when it failed.
        error: Option<core::ExecutionError>,
    },
}

impl Remote {
    /// Starts an execution of `target` (a launch plan, or a task) in the target's project and
    /// domain, as flytekit's `FlyteRemote.execute` does; FlyteAdmin names it when `name` is
    /// `None`.
    pub async fn launch(
        &self,
        target: &Identifier,
        inputs: LiteralMap,
        name: Option<&str>,
    ) -> Result<WorkflowExecutionIdentifier, RemoteError> {
        let spec = admin::ExecutionSpec {
            launch_plan: Some(target.clone()),
            metadata: Some(admin::ExecutionMetadata {
                mode: admin::execution_metadata::ExecutionMode::Manual as i32,
                // FlyteAdmin replaces it with the authenticated identity.
                principal: "placeholder".into(),
                nesting: 0,
                ..Default::default()
            }),
            notification_overrides: Some(
                admin::execution_spec::NotificationOverrides::Notifications(
                    admin::NotificationList::default(),
                ),
            ),
            ..Default::default()
        };
        let resp = self
            .create_execution(admin::ExecutionCreateRequest {
                project: target.project.clone(),
                domain: target.domain.clone(),
                name: name.unwrap_or_default().to_string(),
                spec: Some(spec),
                inputs: Some(inputs),
                org: target.org.clone(),
            })
            .await?;
        resp.id
            .ok_or_else(|| RemoteError::Protocol("CreateExecution returned no execution id".into()))
    }

    /// The execution's current state.
    pub async fn execution(
        &self,
        id: &WorkflowExecutionIdentifier,
    ) -> Result<admin::Execution, RemoteError> {
        self.get_execution(admin::WorkflowExecutionGetRequest {
            id: Some(id.clone()),
        })
        .await
    }

    /// Follows the execution until it finishes, polling every `poll`; reports every new phase
    /// of the execution and of its top-level nodes to `on_event`. Returns the finished
    /// execution.
    pub async fn watch(
        &self,
        id: &WorkflowExecutionIdentifier,
        poll: Duration,
        mut on_event: impl FnMut(WatchEvent),
    ) -> Result<admin::Execution, RemoteError> {
        let mut last_phase = None;
        let mut nodes: BTreeMap<String, i32> = BTreeMap::new();
        loop {
            let exec = self.execution(id).await?;
            let phase = phase_of(&exec);
            if last_phase != Some(phase) && !is_terminal(phase) {
                last_phase = Some(phase);
                on_event(WatchEvent::Execution(phase));
            }
            for node in self.node_executions(id).await? {
                let Some(closure) = &node.closure else {
                    continue;
                };
                let node_id = node
                    .id
                    .as_ref()
                    .map(|n| n.node_id.clone())
                    .unwrap_or_default();
                if node_id == "start-node" || node_id == "end-node" {
                    continue;
                }
                if nodes.get(&node_id) != Some(&closure.phase) {
                    nodes.insert(node_id.clone(), closure.phase);
                    let error = match &closure.output_result {
                        Some(admin::node_execution_closure::OutputResult::Error(e)) => {
                            Some(e.clone())
                        }
                        _ => None,
                    };
                    on_event(WatchEvent::Node {
                        node_id,
                        phase: NodePhase::try_from(closure.phase).unwrap_or(NodePhase::Undefined),
                        error,
                    });
                }
            }
            if is_terminal(phase) {
                on_event(WatchEvent::Execution(phase));
                return Ok(exec);
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// The executions of the execution's top-level nodes (all pages).
    pub async fn node_executions(
        &self,
        id: &WorkflowExecutionIdentifier,
    ) -> Result<Vec<admin::NodeExecution>, RemoteError> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .list_node_executions(admin::NodeExecutionListRequest {
                    workflow_execution_id: Some(id.clone()),
                    limit: 100,
                    token: token.clone(),
                    ..Default::default()
                })
                .await?;
            out.extend(page.node_executions);
            if page.token.is_empty() || page.token == token {
                return Ok(out);
            }
            token = page.token;
        }
    }

    /// Where the outputs of a finished execution are (`GetExecutionData`: inline when small,
    /// else a URL).
    pub async fn outputs(&self, id: &WorkflowExecutionIdentifier) -> Result<Outputs, RemoteError> {
        let data = self
            .get_execution_data(admin::WorkflowExecutionGetDataRequest {
                id: Some(id.clone()),
            })
            .await?;
        if let Some(m) = data.full_outputs {
            return Ok(Outputs::Literals(m));
        }
        match data.outputs {
            Some(blob) if !blob.url.is_empty() => Ok(Outputs::At(blob.url)),
            _ => Ok(Outputs::None),
        }
    }

    /// Reads outputs from a signed `http(s)://` URL ([`Outputs::At`]).
    pub async fn download_outputs(&self, url: &str) -> Result<LiteralMap, RemoteError> {
        let bytes = self.download(url).await?;
        flytekit_idl::codec::decode_literal_map(&bytes).map_err(|e| {
            RemoteError::Protocol(format!(
                "the outputs at {} are not a LiteralMap: {e}",
                crate::error::redact_url(url)
            ))
        })
    }

    /// Starts the execution again with the same inputs; returns the new execution.
    pub async fn relaunch(
        &self,
        id: &WorkflowExecutionIdentifier,
        name: Option<&str>,
    ) -> Result<WorkflowExecutionIdentifier, RemoteError> {
        let resp = self
            .relaunch_execution(admin::ExecutionRelaunchRequest {
                id: Some(id.clone()),
                name: name.unwrap_or_default().to_string(),
                overwrite_cache: false,
            })
            .await?;
        resp.id.ok_or_else(|| {
            RemoteError::Protocol("RelaunchExecution returned no execution id".into())
        })
    }

    /// Aborts a running execution, recording `cause`.
    pub async fn terminate(
        &self,
        id: &WorkflowExecutionIdentifier,
        cause: &str,
    ) -> Result<(), RemoteError> {
        self.terminate_execution(admin::ExecutionTerminateRequest {
            id: Some(id.clone()),
            cause: cause.to_string(),
        })
        .await
        .map(|_| ())
    }

    /// The signals of the execution's gate nodes (set or waiting).
    pub async fn signals(
        &self,
        id: &WorkflowExecutionIdentifier,
    ) -> Result<Vec<admin::Signal>, RemoteError> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .list_signals(admin::SignalListRequest {
                    workflow_execution_id: Some(id.clone()),
                    limit: 100,
                    token: token.clone(),
                    ..Default::default()
                })
                .await?;
            out.extend(page.signals);
            if page.token.is_empty() || page.token == token {
                return Ok(out);
            }
            token = page.token;
        }
    }

    /// Gives the signal `signal_id` of the execution its value, releasing the gate node.
    pub async fn signal(
        &self,
        id: &WorkflowExecutionIdentifier,
        signal_id: &str,
        value: Literal,
    ) -> Result<(), RemoteError> {
        self.set_signal(admin::SignalSetRequest {
            id: Some(SignalIdentifier {
                signal_id: signal_id.to_string(),
                execution_id: Some(id.clone()),
            }),
            value: Some(value),
        })
        .await
        .map(|_| ())
    }

    /// The console page of an execution (flytekit's `generate_console_url`).
    pub fn console_url(&self, id: &WorkflowExecutionIdentifier) -> String {
        format!(
            "{}/console/projects/{}/domains/{}/executions/{}",
            self.config().console_base(),
            id.project,
            id.domain,
            id.name
        )
    }
}

/// The phase of an execution as returned by FlyteAdmin.
pub fn phase_of(exec: &admin::Execution) -> Phase {
    exec.closure
        .as_ref()
        .and_then(|c| Phase::try_from(c.phase).ok())
        .unwrap_or(Phase::Undefined)
}

/// The error of a failed execution, or the abort cause of an aborted one, as one line.
pub fn failure_of(exec: &admin::Execution) -> Option<String> {
    match exec.closure.as_ref()?.output_result.as_ref()? {
        admin::execution_closure::OutputResult::Error(e) => Some(format!(
            "{}{}",
            if e.code.is_empty() {
                String::new()
            } else {
                format!("[{}] ", e.code)
            },
            e.message
        )),
        admin::execution_closure::OutputResult::AbortMetadata(m) => Some(format!(
            "aborted{}: {}",
            if m.principal.is_empty() {
                String::new()
            } else {
                format!(" by {}", m.principal)
            },
            m.cause
        )),
        admin::execution_closure::OutputResult::AbortCause(c) => Some(format!("aborted: {c}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_ids_from_names_triples_and_urls() {
        let id = parse_execution_id("abc", "p", "d").unwrap();
        assert_eq!(
            (id.project.as_str(), id.domain.as_str(), id.name.as_str()),
            ("p", "d", "abc")
        );
        let id = parse_execution_id("q:e:xyz", "p", "d").unwrap();
        assert_eq!(
            (id.project.as_str(), id.domain.as_str(), id.name.as_str()),
            ("q", "e", "xyz")
        );
        let id = parse_execution_id(
            "https://flyte.example.com/console/projects/fs/domains/development/executions/a1b2?duration=all",
            "p",
            "d",
        )
        .unwrap();
        assert_eq!(
            (id.project.as_str(), id.domain.as_str(), id.name.as_str()),
            ("fs", "development", "a1b2")
        );
        assert!(parse_execution_id("a:b", "p", "d").is_err());
        assert!(parse_execution_id("https://x/projects/p/oops", "p", "d").is_err());
    }
}
