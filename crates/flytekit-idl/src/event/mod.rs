//! `flyteidl.event`: execution events.
