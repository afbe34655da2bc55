//! `flyteidl.admin`: registration and execution messages of FlyteAdmin.
