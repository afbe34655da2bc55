//! `flyteidl.core`: literals, types, interfaces, tasks, workflows, identifiers, errors, security.
